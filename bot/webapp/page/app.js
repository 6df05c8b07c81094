// The shop's Mini App: plain JavaScript, no build step. Every API call carries Telegram's
// signed initData; the page never decides who the customer is.
const tg = window.Telegram.WebApp;
const view = document.getElementById("view");
const search = document.getElementById("search");
const ordersButton = document.getElementById("my-orders");
const history = [];
let texts = {};
let current = null; // the view shown now: a function that draws it again

async function api(path, options = {}) {
  const headers = { Authorization: `tma ${tg.initData}`, ...(options.headers || {}) };
  const response = await fetch(`api${path}`, { ...options, headers, cache: "no-store" });
  const body = await response.json().catch(() => ({}));
  // the shop's own words (localized) when it gave some; never a bare error code
  if (!response.ok) throw Object.assign(new Error(body.message || "⚠️"), { body });
  return body;
}

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value !== null && value !== undefined) node.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

function put(...children) {
  view.append(...children.flat(2).filter((child) => child !== null && child !== undefined));
}

function t(name, values = {}) {
  return (texts[name] || name).replace(/\{(\w+)\}/g, (_, key) => values[key] ?? "");
}

function show(draw, { remember = true } = {}) {
  if (remember && current) history.push(current);
  current = draw;
  tg.MainButton.hide();
  tg.MainButton.offClick(buyPressed);
  if (history.length) tg.BackButton.show();
  else tg.BackButton.hide();
  view.replaceChildren();
  return draw();
}

function back() {
  const previous = history.pop();
  if (previous) show(previous, { remember: false });
}

function item(title, meta, onclick) {
  return el("li", {}, el("button", { class: "item", type: "button", onclick },
    el("span", {}, title), el("span", { class: "meta" }, meta)));
}

async function home() {
  const { categories } = await api("/catalog");
  put(el("h1", {}, t("catalog")),
    el("ul", { class: "list" }, categories.map((category) =>
      item(category.title, String(category.count), () => show(() => showCategory(category.key))))));
}

async function showCategory(key) {
  const page = await api(`/categories/${encodeURIComponent(key)}`);
  put(el("h1", {}, page.title), offerList(page.offers));
}

function offerList(offers) {
  if (!offers.length) return el("p", { class: "hint" }, t("nothing_found"));
  return el("ul", { class: "list" }, offers.map((offer) =>
    item(offer.title, t("stars", { amount: offer.price_stars }), () => show(() => showOffer(offer.sku)))));
}

let searching = 0;
async function runSearch() {
  const query = search.value.trim();
  const mine = ++searching;
  if (!query) return show(home, { remember: false });
  const found = await api(`/search?q=${encodeURIComponent(query)}`);
  if (mine !== searching) return; // a newer query is on its way
  show(() => { put(el("h1", {}, t("results", { query })), offerList(found.offers)); },
    { remember: false });
}

let buying = null; // the offer card's state while it is shown
async function showOffer(sku) {
  const offer = await api(`/offers/${encodeURIComponent(sku)}`);
  const state = { offer, quantity: 1, inputs: {} };
  buying = state;
  const quantity = el("span", { id: "quantity" }, "1");
  const price = el("div", { class: "price" }, t("stars", { amount: offer.price_stars }));
  const step = (delta) => {
    state.quantity = Math.min(offer.max_units, Math.max(1, state.quantity + delta));
    quantity.textContent = String(state.quantity);
    price.textContent = t("stars", { amount: offer.price_stars * state.quantity });
    tg.HapticFeedback.selectionChanged();
    updateMainButton();
  };
  put(
    offer.cover ? el("img", { class: "cover", src: offer.cover, loading: "lazy", alt: "",
      onerror: (event) => event.target.remove() }) : null,
    el("h1", {}, offer.title),
    offer.description ? el("p", { class: "hint" }, offer.description) : null,
    price,
    el("p", { class: offer.availability === "available" ? "hint" : "bad", id: "availability" },
      t(offer.availability)),
    offer.max_units > 1 ? el("div", { class: "stepper" },
      el("button", { class: "chip", type: "button", onclick: () => step(-1) }, "−"), quantity,
      el("button", { class: "chip", type: "button", onclick: () => step(1) }, "+")) : null,
    offer.fields.map((field) => {
      const input = el("input", { class: "field", id: `field-${field.name}`, inputmode: "numeric",
        autocomplete: "off" });
      state.inputs[field.name] = input;
      return [el("label", { for: `field-${field.name}` }, field.label), input];
    }),
    el("p", { class: "bad", id: "problem" }),
  );
  if (offer.availability === "available") {
    tg.MainButton.onClick(buyPressed);
    updateMainButton();
  }
}

function updateMainButton() {
  if (!buying) return;
  const total = buying.offer.price_stars * buying.quantity;
  tg.MainButton.setParams({ text: t("buy_for", { amount: total }), is_visible: true });
}

async function buyPressed() {
  const state = buying;
  const problem = document.getElementById("problem");
  const fields = Object.fromEntries(Object.entries(state.inputs).map(([n, i]) => [n, i.value]));
  tg.MainButton.showProgress();
  try {
    const bought = await api("/buy", { method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sku: state.offer.sku, quantity: state.quantity, fields }) });
    problem.textContent = "";
    if (!bought.invoice_link) return show(() => followOrder(bought.order.id));
    tg.openInvoice(bought.invoice_link, (status) => {
      if (status === "paid") {
        tg.HapticFeedback.notificationOccurred("success");
        show(() => followOrder(bought.order.id));
      }
    });
  } catch (error) {
    problem.textContent = error.message;
    const field = error.body && error.body.field && state.inputs[error.body.field];
    if (field) field.classList.add("invalid");
    tg.HapticFeedback.notificationOccurred("error");
  } finally {
    tg.MainButton.hideProgress();
  }
}

async function followOrder(orderId) {
  const order = await api(`/orders/${encodeURIComponent(orderId)}`);
  if (current !== null && view.dataset.order === orderId) view.replaceChildren();
  view.dataset.order = orderId;
  put(el("h1", {}, order.title),
    el("p", { class: "hint", id: "order-state" }, `#${order.number} · ${order.state_label}`),
    order.keys.map(keyView));
  const open = !["delivered", "refunded", "cancelled", "failed"].includes(order.state);
  if (open) setTimeout(() => { if (view.dataset.order === orderId) show(() => followOrder(orderId), { remember: false }); }, 1500);
}

function keyView(key) {
  if (key.kind === "image") return el("div", { class: "key" }, el("img", { src: key.value, alt: t("your_key") }));
  const copy = el("button", { class: "chip", type: "button", onclick: async () => {
    await navigator.clipboard.writeText(key.value).catch(() => {});
    tg.HapticFeedback.notificationOccurred("success");
  } }, t("copy"));
  return el("div", { class: "key" }, el("code", {}, key.value), copy);
}

async function myOrders() {
  const { orders } = await api("/orders");
  put(el("h1", {}, t("my_orders")),
    orders.length ? el("ul", { class: "list" }, orders.map((order) =>
      item(`#${order.number} ${order.title}`, order.state_label, () => show(() => followOrder(order.id)))))
      : el("p", { class: "hint" }, t("no_orders")));
}

async function start() {
  tg.ready();
  tg.expand();
  tg.BackButton.onClick(back);
  texts = await api("/texts");
  document.documentElement.lang = texts.language || "en";
  search.placeholder = t("search");
  ordersButton.textContent = t("my_orders");
  ordersButton.addEventListener("click", () => show(myOrders));
  let timer = null;
  search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(runSearch, 250); });
  const startParam = (tg.initDataUnsafe || {}).start_param || "";
  if (startParam.startsWith("offer-")) return show(() => showOffer(startParam.slice(6)));
  return show(home);
}

start().catch((error) => view.replaceChildren(el("p", { class: "bad" }, error.message)));
