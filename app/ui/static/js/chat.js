// Conversations: the list and a form to start one; one conversation's messages, posting, points, rewards.
import {
  $, ApiError, api, displayName, el, flash, formatTime, onSubmit, pager, requireSignIn, session,
  start, userLink,
} from "./agora.js";
import * as live from "./live.js";

const conversationId = document.body.dataset.conversationId;
const LAST_MESSAGE_CHARS = 140;

function participantNames(conversation) {
  return conversation.participants.map(displayName).join(", ");
}

/** "2, 3 4" -> [2, 3, 4]; anything that is not an id is a field error, as the API would give. */
function parseIds(text) {
  const parts = text.split(/[\s,;]+/).filter(Boolean);
  const wrong = parts.filter((part) => !/^[1-9][0-9]{0,9}$/.test(part));
  if (wrong.length) {
    throw new ApiError(422, "validation_error", "The request is not valid.",
      { participant_ids: [`Not a user id: ${wrong.join(", ")}. Use numbers, separated by commas.`] });
  }
  return parts.map(Number);
}

/** When a conversation last moved: its newest message, or its creation while it has none. */
function activity(conversation) {
  return Date.parse((conversation.last_message && conversation.last_message.created_at) || conversation.created_at) || 0;
}

function lastMessageLine(message) {
  if (!message) return el("p", { class: "meta last-message", text: "No messages yet." });
  const who = message.kind === "reward" ? "★ Agora" : displayName(message.author);
  const body = message.body.length > LAST_MESSAGE_CHARS ? `${message.body.slice(0, LAST_MESSAGE_CHARS)}…` : message.body;
  return el("p", { class: "meta last-message" }, `${who}: `, el("span", { class: "last-message-body", text: body }),
    " · ", formatTime(message.created_at));
}

function conversationItem(conversation) {
  const unread = Number(conversation.unread_count) || 0;
  const item = el("li", { class: "card conversation", "data-conversation-id": conversation.id },
    el("div", { class: "row conversation-head" },
      el("a", { href: `/conversations/${Number(conversation.id)}`, class: "conversation-title", text: conversation.title }),
      el("span", { class: "badge unread", hidden: unread === 0, text: `${unread} unread` })),
    el("p", { class: "meta" }, `With ${participantNames(conversation)} · started `, formatTime(conversation.created_at)),
    lastMessageLine(conversation.last_message));
  item.dataset.activity = String(activity(conversation));
  return item;
}

/** Show ``conversation`` in its place by latest activity, replacing what the list showed of it. */
function placeConversation(conversation, { atEnd = false } = {}) {
  const list = $("#conversations");
  const item = conversationItem(conversation);
  const shown = list.querySelector(`[data-conversation-id="${Number(conversation.id)}"]`);
  if (shown) shown.remove();
  // A page of the pager goes after what is shown; a live change goes before the first one it is newer than.
  const after = atEnd && !shown ? null
    : [...list.children].find((other) => Number(other.dataset.activity) < activity(conversation));
  list.insertBefore(item, after || null);
  $("#conversations-empty").hidden = true;
}

function conversationsPage() {
  onSubmit($("#conversation-form"), async (form) => {
    const body = { title: form.elements.title.value.trim(), participant_ids: parseIds(form.elements.participant_ids.value) };
    const conversation = await api("POST", "/api/v1/conversations", { body });
    location.assign(`/conversations/${Number(conversation.id)}`);
  });
  const next = pager({
    path: "/api/v1/conversations",
    button: $("#conversations-more"),
    render: (conversation) => placeConversation(conversation, { atEnd: true }),
    onPage: () => { $("#conversations-empty").hidden = $("#conversations").children.length > 0; },
  });

  // The list entry's counts are the server's: one read per change, and changes meanwhile fold into one more.
  const reading = new Map();
  async function reread(id) {
    if (reading.has(id)) {
      reading.set(id, true);
      return;
    }
    try {
      do {
        reading.set(id, false);
        try {
          placeConversation(await api("GET", `/api/v1/conversations/${Number(id)}`));
        } catch (error) {
          if (error.status !== 404) throw error;
          $(`#conversations [data-conversation-id="${Number(id)}"]`)?.remove();  // left meanwhile
        }
      } while (reading.get(id));
    } finally {
      reading.delete(id);
    }
  }
  live.on("message.created", (data) => reread(data.conversation_id));
  live.on("conversation.created", (data) => reread(data.conversation.id));
  live.on("resync", async () => {
    next.reset();
    await next();
  });
  return live.goLive(next);
}

/** The messages of one conversation by id, oldest at the top: from pages, my posts and events alike, each once. */
function messageList(list) {
  function place(message) {
    const id = Number(message.id);
    if (list.querySelector(`[data-message-id="${id}"]`)) return false;
    const item = messageItem(message);
    let before = list.lastElementChild;
    while (before && Number(before.dataset.messageId) > id) before = before.previousElementSibling;
    if (before) before.after(item);
    else list.prepend(item);
    $("#messages-empty").hidden = true;
    return true;
  }
  function newestId() {
    return Number(list.lastElementChild?.dataset.messageId) || 0;
  }
  return { place, newestId };
}

function messageItem(message) {
  const reward = message.kind === "reward";
  const mine = !reward && message.author && session.user && message.author.id === session.user.id;
  const classes = ["message", reward ? "message-reward" : "message-user", mine ? "mine" : ""].filter(Boolean).join(" ");
  const who = reward ? el("span", { class: "author", text: "★ Agora" }) : userLink(message.author || { id: 0, name: "someone" });
  return el("li", { class: classes, "data-kind": message.kind, "data-message-id": message.id },
    el("p", { class: "meta" }, who, " · ", formatTime(message.created_at)),
    el("p", { class: "message-body", text: message.body }));
}

function showPoints(points) {
  $("#points").textContent = `Your points: ${points}`;
}

/** Keep my read marker on the newest message shown while the page is in view: one request at a time. */
function readMarker(base, messages, list) {
  let marked = 0;
  let sending = false;
  function mark(id) {
    marked = Math.max(marked, Number(id) || 0);
    list.dataset.readUpTo = String(marked);  // where my marker is, as the server last said
  }
  async function update() {
    if (sending || document.visibilityState !== "visible") return;
    const newest = messages.newestId();
    if (newest <= marked) return;
    sending = true;
    try {
      // Asked once per message: a marker the server keeps further back is not asked for again.
      const answer = await api("POST", `${base}/read`, { body: { message_id: newest } });
      mark(Math.max(newest, Number(answer.last_read_message_id) || 0));
    } finally {
      sending = false;
    }
    if (messages.newestId() > marked) await update();  // more came while this one was on its way
  }
  document.addEventListener("visibilitychange", () => update().catch(() => {}));
  return {
    update: () => update().catch((error) => console.warn("read marker not moved:", error)),
    set: mark,
  };
}

function conversationPage() {
  const list = $("#messages");
  const messages = messageList(list);
  const base = `/api/v1/conversations/${encodeURIComponent(conversationId)}`;
  const marker = readMarker(base, messages, list);
  // The API pages newest first: "Load older" fetches further back; every message finds its place by id.
  const older = pager({
    path: `${base}/messages`,
    button: $("#messages-more"),
    render: messages.place,
    onPage: () => { $("#messages-empty").hidden = list.children.length > 0; },
  });

  function scrollToNewest() {
    list.lastElementChild?.scrollIntoView({ block: "nearest" });
  }

  onSubmit($("#message-form"), async (form) => {
    const answer = await api("POST", `${base}/messages`, { body: { body: form.elements.body.value.trim() } });
    form.reset();
    messages.place(answer.message);
    if (answer.reward) messages.place(answer.reward);
    marker.set(answer.message.id);  // posting moved my marker to my message (SPEC 7); a congratulation is still new
    showPoints(answer.points);
    scrollToNewest();
    marker.update();
    form.elements.body.focus();
  });

  live.on("message.created", async (data) => {
    if (String(data.conversation_id) !== String(conversationId)) return;
    const atBottom = list.getBoundingClientRect().bottom <= window.innerHeight + 80;
    if (!messages.place(data.message)) return;
    if (atBottom) scrollToNewest();
    marker.update();
    const mine = data.message.author && session.user && data.message.author.id === session.user.id;
    if (mine) showPoints((await api("GET", "/api/v1/users/me")).points);  // posted from another tab
  });
  live.on("resync", async () => {
    older.reset();
    await older();
    marker.update();
  });

  // Leaving cannot be undone: the first press asks, the second leaves.
  let title = "the conversation";
  onSubmit($("#leave-form"), async (form) => {
    const button = $("#leave", form);
    if (!form.dataset.confirming) {
      form.dataset.confirming = "yes";
      button.textContent = "Leave for good";
      $("#leave-hint").hidden = false;
      return;
    }
    await api("DELETE", `${base}/participants/me`);
    flash(`You left “${title}”.`);
    location.assign("/conversations");
  });

  return live.goLive(async () => {
    const conversation = await api("GET", base);
    title = conversation.title;
    document.title = `${conversation.title} · Agora`;
    $("#conversation-title").textContent = conversation.title;
    $("#participants").replaceChildren("With ", ...conversation.participants.flatMap((user, index) => (
      index ? [", ", userLink(user)] : [userLink(user)])));
    marker.set(conversation.last_read_message_id);
    const me = await api("GET", "/api/v1/users/me");
    showPoints(me.points);
    await older();
    scrollToNewest();
    marker.update();
  });
}

if (requireSignIn()) {
  start(() => (conversationId ? conversationPage() : conversationsPage()));
}
