// Sign in by phone (number, then code), by email and password, or sign up by email.
import { $, api, displayName, el, onSubmit, session, showFormError, start } from "./agora.js";

const backend = document.body.dataset.smsBackend;
const OUTBOX_POLL_MS = 400;
const OUTBOX_WAIT_MS = 20000;
const WHERE_THE_CODE_IS = {
  console: "Development: SMS_BACKEND=console sends no SMS; the code is in the server's log.",
  outbox: "Development: SMS_BACKEND=outbox keeps the message in the dev outbox; it appears below.",
};

const phoneForm = $("#phone-form");
const codeForm = $("#code-form");
let phone = null;
let cooldown = null;

/**
 * Where to go once signed in: a page of this site only, decided by origin as the browser resolves
 * ``next``: it reads "/\evil.example" and "/<tab>/evil.example" as "//evil.example", which no prefix test foresees.
 */
function destination() {
  const next = new URLSearchParams(location.search).get("next");
  let url;
  try {
    url = new URL(next || "/profile", location.origin);
  } catch {
    return "/profile";
  }
  if (url.origin !== location.origin || url.pathname.startsWith("/signin")) return "/profile";
  return url.pathname + url.search + url.hash;
}

function signedIn(answer) {
  session.start(answer);
  location.assign(destination());
}

async function latestOutboxMessage(number) {
  const outbox = await api("GET", `/api/v1/dev/sms-outbox?phone=${encodeURIComponent(number)}`, { auth: false });
  return outbox.items[0] || null;
}

/** Show the outbox's next message to ``number`` (newer than ``before``), polling while it is on its way. */
async function showOutbox(number, before) {
  const box = $("#outbox");
  box.hidden = false;
  box.textContent = "Waiting for the message in the dev outbox…";
  const deadline = Date.now() + OUTBOX_WAIT_MS;
  while (Date.now() < deadline) {
    const message = await latestOutboxMessage(number);
    if (message && (!before || message.created_at !== before.created_at)) {
      box.replaceChildren(el("strong", { text: "Dev outbox: " }), el("q", { text: message.body }));
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, OUTBOX_POLL_MS));
  }
  box.textContent = "Nothing reached the dev outbox yet: with REDIS_URL set, is a worker running (make worker)?";
}

function startCooldown(seconds) {
  const resend = $("#resend");
  clearInterval(cooldown);
  let left = seconds;
  resend.disabled = true;
  resend.dataset.keepDisabled = "1";
  const tick = () => {
    if (left <= 0) {
      clearInterval(cooldown);
      delete resend.dataset.keepDisabled;
      resend.disabled = false;
      resend.textContent = "Send a new code";
      return;
    }
    resend.textContent = `Send a new code (${left} s)`;
    left -= 1;
  };
  tick();
  cooldown = setInterval(tick, 1000);
}

async function requestCode(number) {
  const before = backend === "outbox" ? await latestOutboxMessage(number).catch(() => null) : null;
  const sent = await api("POST", "/api/v1/auth/phone/code", { body: { phone: number }, auth: false });
  phone = sent.phone;
  phoneForm.hidden = true;
  codeForm.hidden = false;
  $("#code-sent").textContent = `We sent a 4-digit code to ${sent.phone}. It expires in ${Math.round(sent.expires_in / 60)} minutes.`;
  $("#code-where").textContent = WHERE_THE_CODE_IS[backend] || "";
  $("#code").value = "";
  $("#code").focus();
  startCooldown(sent.resend_after);
  if (backend === "outbox") await showOutbox(sent.phone, before);
}

onSubmit(phoneForm, async (form) => {
  await requestCode(form.elements.phone.value.trim());
});

onSubmit(codeForm, async (form) => {
  const code = form.elements.code.value.trim();
  const answer = await api("POST", "/api/v1/auth/phone/verify", { body: { phone, code }, auth: false });
  signedIn(answer);
});

$("#resend").addEventListener("click", async () => {
  try {
    await requestCode(phone);
  } catch (error) {
    showFormError(codeForm, error);
  }
});

$("#other-number").addEventListener("click", () => {
  clearInterval(cooldown);
  codeForm.hidden = true;
  $("#outbox").hidden = true;
  phoneForm.hidden = false;
  $("#phone").focus();
});

onSubmit($("#login-form"), async (form) => {
  const body = { email: form.elements.email.value.trim(), password: form.elements.password.value };
  signedIn(await api("POST", "/api/v1/auth/login", { body, auth: false }));
});

onSubmit($("#signup-form"), async (form) => {
  const body = { email: form.elements.email.value.trim(), password: form.elements.password.value };
  const name = form.elements.name.value.trim();
  if (name) body.name = name;
  signedIn(await api("POST", "/api/v1/auth/signup", { body, auth: false }));
});

start(async () => {
  if (session.signedIn) {
    const who = session.user ? ` as ${displayName(session.user)}` : "";
    $("#phone-section").before(el("p", { class: "hint", text: `You are signed in${who}; signing in again switches accounts.` }));
  }
});
