// A stand-in for https://telegram.org/js/telegram-web-app.js in browser tests: the
// `Telegram.WebApp` the page uses, with initData signed by the test for its bot token,
// the theme as CSS variables, MainButton and BackButton recorded (and drawn, for
// screenshots), and openInvoice turned into a payment through the fake Bot API.
(() => {
  const config = window.__TELEGRAM_TEST__ || {};
  const listeners = { main: [], back: [] };
  const record = { events: [], mainButton: { text: "", visible: false }, backButton: false };
  window.__tg = record;
  const root = document.documentElement.style;
  for (const [name, value] of Object.entries(config.theme || {})) {
    root.setProperty(`--tg-theme-${name.replace(/_/g, "-")}`, value);
  }
  let bar = null;
  const draw = () => {
    if (!document.body) return;
    if (!bar) {
      bar = document.createElement("div");
      bar.id = "tg-main-button";
      bar.style.cssText = "position:fixed;left:0;right:0;bottom:0;padding:14px;text-align:center;"
        + "font:600 16px system-ui;background:var(--tg-theme-button-color,#2a7ae2);"
        + "color:var(--tg-theme-button-text-color,#fff)";
      bar.addEventListener("click", () => record.pressMainButton());
      document.body.append(bar);
    }
    bar.textContent = record.mainButton.text;
    bar.style.display = record.mainButton.visible ? "block" : "none";
  };
  document.addEventListener("DOMContentLoaded", draw);
  const note = (event) => record.events.push(event);
  window.Telegram = {
    WebApp: {
      initData: config.initData || "",
      initDataUnsafe: config.initDataUnsafe || {},
      themeParams: config.theme || {},
      colorScheme: config.colorScheme || "light",
      ready: () => note("ready"),
      expand: () => note("expand"),
      MainButton: {
        setParams(params) {
          if ("text" in params) record.mainButton.text = params.text;
          if ("is_visible" in params) record.mainButton.visible = params.is_visible;
          draw();
        },
        show() { record.mainButton.visible = true; draw(); },
        hide() { record.mainButton.visible = false; draw(); },
        onClick(callback) { listeners.main.push(callback); },
        offClick(callback) { listeners.main = listeners.main.filter((f) => f !== callback); },
        showProgress: () => note("progress"),
        hideProgress: () => note("progress-done"),
      },
      BackButton: {
        show() { record.backButton = true; },
        hide() { record.backButton = false; },
        onClick(callback) { listeners.back.push(callback); },
        offClick(callback) { listeners.back = listeners.back.filter((f) => f !== callback); },
      },
      HapticFeedback: {
        impactOccurred: (style) => note(`haptic:${style}`),
        notificationOccurred: (kind) => note(`haptic:${kind}`),
        selectionChanged: () => note("haptic:selection"),
      },
      openInvoice(url, callback) {
        note("invoice");
        window.__payInvoice(url).then((status) => callback && callback(status));
      },
    },
  };
  record.pressMainButton = () => listeners.main.forEach((callback) => callback());
  record.pressBackButton = () => listeners.back.forEach((callback) => callback());
})();
