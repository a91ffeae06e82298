// Conversations: the list and a form to start one; one conversation's messages, posting, points, rewards.
import {
  $, ApiError, api, displayName, el, errorText, flash, formatTime, onSubmit, pager, requireSignIn, session, showNotice,
  start, userLink,
} from "./agora.js";

const conversationId = document.body.dataset.conversationId;

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

function renderConversation(conversation) {
  $("#conversations").append(el("li", { class: "card conversation" },
    el("a", { href: `/conversations/${Number(conversation.id)}`, class: "conversation-title", text: conversation.title }),
    el("p", { class: "meta" }, `With ${participantNames(conversation)} · `, formatTime(conversation.created_at))));
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
    render: renderConversation,
    onPage: () => { $("#conversations-empty").hidden = $("#conversations").children.length > 0; },
  });
  return next();
}

function messageItem(message) {
  const reward = message.kind === "reward";
  const mine = !reward && message.author && session.user && message.author.id === session.user.id;
  const classes = ["message", reward ? "message-reward" : "message-user", mine ? "mine" : ""].filter(Boolean).join(" ");
  const who = reward ? el("span", { class: "author", text: "★ Agora" }) : userLink(message.author || { id: 0, name: "someone" });
  return el("li", { class: classes, "data-kind": message.kind },
    el("p", { class: "meta" }, who, " · ", formatTime(message.created_at)),
    el("p", { class: "message-body", text: message.body }));
}

function showPoints(points) {
  $("#points").textContent = `Your points: ${points}`;
}

function conversationPage() {
  const list = $("#messages");
  const base = `/api/v1/conversations/${encodeURIComponent(conversationId)}`;
  let showingLatest = true;
  // The API pages newest first; the page shows the oldest at the top, so each page goes in reversed.
  const older = pager({
    path: `${base}/messages`,
    button: $("#messages-more"),
    render: () => {},
    onPage: (page) => {
      const items = page.items.slice().reverse().map(messageItem);
      if (showingLatest) list.append(...items);
      else list.prepend(...items);
      showingLatest = false;
      $("#messages-empty").hidden = list.children.length > 0;
    },
  });

  async function reload() {
    list.replaceChildren();
    showingLatest = true;
    older.reset();
    await older();
    list.lastElementChild?.scrollIntoView({ block: "nearest" });
  }

  function append(message) {
    list.append(messageItem(message));
    $("#messages-empty").hidden = true;
  }

  onSubmit($("#message-form"), async (form) => {
    const answer = await api("POST", `${base}/messages`, { body: { body: form.elements.body.value.trim() } });
    form.reset();
    append(answer.message);
    if (answer.reward) append(answer.reward);
    showPoints(answer.points);
    list.lastElementChild.scrollIntoView({ block: "nearest" });
    form.elements.body.focus();
  });
  $("#messages-refresh").addEventListener("click", () => reload().catch((error) => showNotice(errorText(error))));

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

  return (async () => {
    const conversation = await api("GET", base);
    title = conversation.title;
    document.title = `${conversation.title} · Agora`;
    $("#conversation-title").textContent = conversation.title;
    $("#participants").replaceChildren("With ", ...conversation.participants.flatMap((user, index) => (
      index ? [", ", userLink(user)] : [userLink(user)])));
    const me = await api("GET", "/api/v1/users/me");
    showPoints(me.points);
    await reload();
  })();
}

if (requireSignIn()) {
  start(() => (conversationId ? conversationPage() : conversationsPage()));
}
