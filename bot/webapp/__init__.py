"""The shop as a Telegram Mini App: its page at `/app/` and its JSON API under `/app/api/`,
served by the bot's HTTP server when WEBAPP_URL is set. The customer is whoever Telegram's
signed `initData` says, never anything else the page sends."""
