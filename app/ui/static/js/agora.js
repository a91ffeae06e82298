// What every page shares: the session kept in sessionStorage, API calls (with a token refresh),
// readable errors, and DOM helpers that only ever set text (API data never becomes markup).

const KEYS = { access: "agora.access_token", refresh: "agora.refresh_token", user: "agora.user", flash: "agora.flash" };
const NETWORK_MESSAGE = "Could not reach Agora: check your connection and try again.";

export const session = {
  get access() { return sessionStorage.getItem(KEYS.access); },
  get refresh() { return sessionStorage.getItem(KEYS.refresh); },
  get signedIn() { return Boolean(sessionStorage.getItem(KEYS.access)); },
  get user() {
    try { return JSON.parse(sessionStorage.getItem(KEYS.user)); } catch { return null; }
  },
  start({ access_token, refresh_token, user }) {
    sessionStorage.setItem(KEYS.access, access_token);
    sessionStorage.setItem(KEYS.refresh, refresh_token);
    session.remember(user);
  },
  remember(user) {
    sessionStorage.setItem(KEYS.user, JSON.stringify({ id: user.id, name: user.name }));
  },
  end() {
    for (const key of [KEYS.access, KEYS.refresh, KEYS.user]) sessionStorage.removeItem(key);
  },
};

/** An API answer other than 2xx, or no answer at all (status 0). */
export class ApiError extends Error {
  constructor(status, code, message, fields = {}, details = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields;
    this.details = details;
  }
}

async function send(method, path, body, token) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  let response;
  try {
    response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, "network_error", NETWORK_MESSAGE);
  }
  if (response.status === 204) return null;
  let data = null;
  try { data = await response.json(); } catch { /* not JSON: a proxy's error page, a cut connection */ }
  if (response.ok && data !== null) return data;
  const error = data && data.error;
  if (error && error.message) throw new ApiError(response.status, error.code, error.message, error.fields || {}, error);
  const status = `${response.status} ${response.statusText}`.trim();
  throw new ApiError(response.status, "unreadable_answer", `The server answered ${status} without a readable message: try again in a moment.`);
}

let refreshing = null;

// A tab duplicated from another starts with a copy of its sessionStorage, so the same refresh token, and
// both refresh at the same moment when their streams say `reauth`. Refresh tokens rotate and a spent one
// presented again ends the session (it looks stolen), so the tabs of this browser take turns (a Web Lock)
// and the one that exchanged a token tells the others (same origin only) what replaced it.
const tabs = "BroadcastChannel" in window ? new BroadcastChannel("agora.tokens") : null;
tabs?.addEventListener("message", ({ data }) => {
  if (data && data.spent && data.spent === session.refresh) keepTokens(data.tokens);
});
// Long enough for the other tabs to read the message before the next one takes its turn.
const HAND_OVER_MS = 100;

function keepTokens({ access_token, refresh_token }) {
  sessionStorage.setItem(KEYS.access, access_token);
  sessionStorage.setItem(KEYS.refresh, refresh_token);
}

async function exchange(spent) {
  if (session.refresh !== spent) return true;  // another tab exchanged it while this one waited its turn
  try {
    const data = await send("POST", "/api/v1/auth/refresh", undefined, spent);
    keepTokens(data);
    if (tabs) {
      tabs.postMessage({ spent, tokens: { access_token: data.access_token, refresh_token: data.refresh_token } });
      await new Promise((resolve) => setTimeout(resolve, HAND_OVER_MS));
    }
    return true;
  } catch {
    return false;
  }
}

/** New tokens for the refresh token (rotated, kept); false when there is none or it was refused. */
export function refreshAccess() {
  const refresh = session.refresh;
  if (!refresh) return Promise.resolve(false);
  refreshing ??= (navigator.locks ? navigator.locks.request("agora.refresh", () => exchange(refresh)) : exchange(refresh))
    .finally(() => { refreshing = null; });
  return refreshing;
}

let inFlight = 0;
let idleWaiters = [];

/** Resolves once no API call is on its way, and their callers have run: one may be bringing new tokens. */
export function apiSettled() {
  const idle = inFlight ? new Promise((resolve) => idleWaiters.push(resolve)) : Promise.resolve();
  return idle.then(() => new Promise((resolve) => setTimeout(resolve)));
}

/** Call the API; ``auth: false`` sends no token (signing in must not act as the current user). */
export async function api(method, path, options = {}) {
  inFlight += 1;
  try {
    return await call(method, path, options);
  } finally {
    inFlight -= 1;
    if (!inFlight) {
      const waiters = idleWaiters;
      idleWaiters = [];
      waiters.forEach((resolve) => resolve());
    }
  }
}

async function call(method, path, { body, auth = true }) {
  const token = auth ? session.access : null;
  let failure;
  try {
    return await send(method, path, body, token);
  } catch (error) {
    if (!(error instanceof ApiError) || error.status !== 401 || !token) throw error;
    failure = error;
  }
  if (failure.code === "token_expired" && await refreshAccess()) {
    try {
      return await send(method, path, body, session.access);
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401) throw error;
      failure = error;
    }
  }
  endSession(failure.message);
  throw failure;
}

/** Forget the tokens and go to the sign-in page, which shows ``message``. */
export function endSession(message) {
  session.end();
  flash(message);
  location.assign(`/signin?next=${encodeURIComponent(location.pathname)}`);
}

export function flash(message) {
  sessionStorage.setItem(KEYS.flash, message);
}

/** On pages that need a user: false (and off to sign in) when nobody is signed in. */
export function requireSignIn() {
  if (session.signedIn) return true;
  flash("Sign in to see this page.");
  location.replace(`/signin?next=${encodeURIComponent(location.pathname)}`);
  return false;
}

export function $(selector, root = document) {
  return root.querySelector(selector);
}

/** Build an element: ``text`` sets textContent, ``on<event>`` adds a listener, other keys are attributes. */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) node.append(child);
  }
  return node;
}

/** Only http(s) links from API data, so a ``javascript:`` URL never becomes a link. */
export function safeUrl(value) {
  try {
    const url = new URL(value);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

export function displayName(user) {
  if (!user) return "Agora";
  return user.name || `user #${user.id}`;
}

export function userLink(user) {
  return el("a", { href: `/users/${Number(user.id)}`, text: displayName(user) });
}

export function formatTime(iso) {
  const date = new Date(iso);
  return el("time", { datetime: iso, text: Number.isNaN(date.getTime()) ? iso : date.toLocaleString() });
}

export function plural(count, one, many) {
  return `${count} ${count === 1 ? one : many}`;
}

export function showNotice(message, kind = "error") {
  const notice = $("#notice");
  notice.textContent = message;
  notice.className = `notice notice-${kind}`;
  notice.hidden = false;
}

export function clearNotice() {
  $("#notice").hidden = true;
}

/** The readable text of an error, with the details some errors carry. */
export function errorText(error) {
  if (!(error instanceof ApiError)) return `Something went wrong on this page: ${error && error.message ? error.message : error}`;
  const parts = [error.message];
  const { attempts_left: attemptsLeft, retry_after: retryAfter } = error.details;
  if (Number.isInteger(attemptsLeft)) parts.push(plural(attemptsLeft, "attempt left.", "attempts left."));
  if (Number.isInteger(retryAfter)) parts.push(`Try again in ${plural(retryAfter, "second", "seconds")}.`);
  return parts.join(" ");
}

function fieldMessages(messages) {
  if (Array.isArray(messages)) return messages.map((m) => (typeof m === "string" ? m : JSON.stringify(m))).join(" ");
  if (messages && typeof messages === "object") return Object.values(messages).map(fieldMessages).join(" ");
  return String(messages);
}

export function clearFormErrors(form) {
  for (const node of form.querySelectorAll(".field-error, .form-error")) {
    node.textContent = "";
    node.hidden = true;
  }
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

/** Show an error in a form: field messages next to their inputs, the rest in the form's error line. */
export function showFormError(form, error) {
  const unplaced = [];
  for (const [name, messages] of Object.entries(error.fields || {})) {
    const slot = form.querySelector(`.field-error[data-for="${CSS.escape(name)}"]`);
    const text = fieldMessages(messages);
    if (slot) {
      slot.textContent = text;
      slot.hidden = false;
      const input = form.elements.namedItem(name);
      if (input && input.setAttribute) input.setAttribute("aria-invalid", "true");
    } else {
      unplaced.push(name === "_schema" ? text : `${name}: ${text}`);
    }
  }
  const line = form.querySelector(".form-error");
  line.textContent = [errorText(error), ...unplaced].join(" ");
  line.hidden = false;
}

/** Run ``handler(form)`` on submit with its errors shown in the form and its buttons off meanwhile. */
export function onSubmit(form, handler) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFormErrors(form);
    const buttons = form.querySelectorAll("button");
    for (const button of buttons) button.disabled = true;
    try {
      await handler(form);
    } catch (error) {
      showFormError(form, error);
    } finally {
      for (const button of buttons) if (!button.dataset.keepDisabled) button.disabled = false;
    }
  });
}

/** Run a page's start-up, showing any failure instead of leaving a blank page. */
export async function start(main) {
  initNav();
  try {
    await main();
  } catch (error) {
    showNotice(errorText(error));
  }
}

/** A "load more" list over a cursor-paginated endpoint. */
export function pager({ path, button, render, onPage }) {
  let cursor = null;
  let done = false;
  async function next() {
    if (done) return;
    const separator = path.includes("?") ? "&" : "?";
    button.disabled = true;
    try {
      const page = await api("GET", cursor ? `${path}${separator}cursor=${encodeURIComponent(cursor)}` : path);
      page.items.forEach(render);
      cursor = page.next_cursor;
      done = !cursor;
      button.hidden = done;
      if (onPage) onPage(page);
    } finally {
      button.disabled = false;
    }
  }
  button.addEventListener("click", () => next().catch((error) => showNotice(errorText(error))));
  next.reset = () => { cursor = null; done = false; };
  return next;
}

function initNav() {
  const signedIn = session.signedIn;
  for (const node of document.querySelectorAll("[data-when]")) {
    node.hidden = (node.dataset.when === "signed-in") !== signedIn;
  }
  $("#sign-out").addEventListener("click", signOut);
  const message = sessionStorage.getItem(KEYS.flash);
  if (message) {
    sessionStorage.removeItem(KEYS.flash);
    showNotice(message, "info");
  }
}

async function signOut() {
  // The page's live stream closes first: the logout it would hear of is this one (live.js).
  window.dispatchEvent(new Event("agora:signing-out"));
  const refresh = session.refresh;
  try {
    await api("POST", "/api/v1/auth/logout", { body: refresh ? { refresh_token: refresh } : {} });
  } catch { /* the tokens are forgotten here whatever the server says */ }
  session.end();
  flash("You are signed out.");
  location.assign("/signin");
}

window.addEventListener("unhandledrejection", (event) => showNotice(errorText(event.reason)));
window.addEventListener("error", (event) => showNotice(`Something went wrong on this page: ${event.message}`));
