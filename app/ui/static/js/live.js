// The page's one live stream (SPEC 12): EventSource opened with a single-use ticket, resumed from the last
// event id after any break, with reauth, resync and session.revoked handled here so pages only name events.
import { api, apiSettled, refreshAccess, session } from "./agora.js";

const TICKET_PATH = "/api/v1/events/ticket";
const STREAM_PATH = "/api/v1/events";
const RETRY_MS = [1000, 2000, 4000, 8000, 15000, 30000];
// A page waits this long at most for its stream before reading its data: a refused stream never blanks it.
const FIRST_OPEN_WAIT_MS = 3000;
const NAMED_EVENTS = [
  "message.created", "conversation.created", "like.created", "like.deleted", "profile.updated", "referral.created",
  "resync", "reauth", "session.revoked",
];

const handlers = new Map();
let source = null;
let connecting = false;
let lastEventId = null;
let failures = 0;
let retryTimer = null;
let everOpened = false;
let stopped = false;
// Events that arrive while the page reads its data wait here, then run after it: none is lost to the first render.
let held = null;
let firstAttemptDone = () => {};

/** Call ``handler(data, name)`` for every event ``name``; "resync" also runs after a break that may have lost events. */
export function on(name, handler) {
  if (!handlers.has(name)) handlers.set(name, []);
  handlers.get(name).push(handler);
}

/** Open the stream, then run ``load`` (the page's REST reads); returns what ``load`` returns. */
export async function goLive(load) {
  if (!session.signedIn) return load();
  held = [];
  const firstAttempt = new Promise((resolve) => {
    firstAttemptDone = resolve;
    setTimeout(resolve, FIRST_OPEN_WAIT_MS);
  });
  connect();
  await firstAttempt;
  try {
    return await load();
  } finally {
    const waiting = held;
    held = null;
    for (const [name, data] of waiting) dispatch(name, data);
  }
}

/** Close the stream for good. */
export function stop() {
  stopped = true;
  clearTimeout(retryTimer);
  close();
}

// Signing out ends the session on purpose: this page must not read that as its session ending elsewhere.
window.addEventListener("agora:signing-out", stop);
// A page left for the back-forward cache lets its connection go, and resumes from its last event if it comes back.
window.addEventListener("pagehide", (event) => {
  if (event.persisted) close();
});
window.addEventListener("pageshow", (event) => {
  if (event.persisted && !stopped && !source && !retryTimer && everOpened) connect();
});

function close() {
  if (source) {
    source.close();
    source = null;
  }
}

async function connect() {
  retryTimer = null;
  if (stopped || connecting || source) return;  // one stream per page
  let ticket;
  connecting = true;
  try {
    // Through api(): an expired access token is refreshed there, and a revoked one signs the page out.
    ticket = (await api("POST", TICKET_PATH)).ticket;
  } catch (error) {
    firstAttemptDone();
    if (error.status === 401) stopped = true;  // api() has signed the page out
    else retry();
    return;
  } finally {
    connecting = false;
  }
  if (stopped) return;
  const query = new URLSearchParams({ ticket });
  if (lastEventId) query.set("last_event_id", lastEventId);
  const stream = new EventSource(`${STREAM_PATH}?${query}`);
  source = stream;
  stream.addEventListener("open", () => {
    // Reopened with nothing to resume from: events of the break are not replayed, so the page reads again.
    if (everOpened && !lastEventId) deliver("resync", {});
    everOpened = true;
    failures = 0;
    document.body.dataset.live = "open";  // whether the page is live now (the browser tests wait on it)
    firstAttemptDone();
  });
  // A ticket is spent once used, so EventSource's own reconnect would only meet 401: reconnect with a new one.
  stream.addEventListener("error", () => {
    if (source !== stream) return;
    close();
    document.body.dataset.live = "closed";
    firstAttemptDone();
    retry();
  });
  for (const name of NAMED_EVENTS) {
    stream.addEventListener(name, (event) => received(stream, name, event));
  }
}

function received(stream, name, event) {
  if (source !== stream) return;
  if (event.lastEventId) lastEventId = event.lastEventId;
  let data = {};
  try { data = JSON.parse(event.data); } catch { /* every event's data is JSON; a broken line is ignored */ }
  if (name === "reauth") {
    // The stream's access token expired: refresh it as api() does, then open a new stream from the same place.
    close();
    refreshAccess().finally(connect);
  } else if (name === "session.revoked") {
    // A new ticket tells which: after this page's own credential change (its answer, with new tokens, may
    // still be on its way) the page goes on; after a logout elsewhere api() meets 401 and signs the page out.
    close();
    apiSettled().then(connect);
  } else {
    deliver(name, data);
  }
}

function deliver(name, data) {
  if (held) held.push([name, data]);
  else dispatch(name, data);
}

function dispatch(name, data) {
  for (const handler of handlers.get(name) || []) {
    Promise.resolve()
      .then(() => handler(data, name))
      .catch((error) => console.warn(`live event ${name} not shown:`, error));
  }
}

function retry() {
  if (stopped || retryTimer) return;
  const base = RETRY_MS[Math.min(failures, RETRY_MS.length - 1)];
  failures += 1;
  // Jitter: many pages that lost the same server must not all come back at the same instant.
  retryTimer = setTimeout(connect, base / 2 + Math.random() * base / 2);
}
