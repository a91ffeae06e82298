// Sign in by phone (number, then code), by email and password, or sign up by email; reset a forgotten password.
import { $, api, displayName, el, onSubmit, session, showFormError, start } from "./agora.js";

const backend = document.body.dataset.smsBackend;
const mailBackend = document.body.dataset.mailBackend;
const OUTBOX_POLL_MS = 400;
const OUTBOX_WAIT_MS = 20000;
const WHERE_THE_CODE_IS = {
  console: "Development: SMS_BACKEND=console sends no SMS; the code is in the server's log.",
  outbox: "Development: SMS_BACKEND=outbox keeps the message in the dev outbox; it appears below.",
};
const WHERE_THE_MAIL_IS = {
  console: "Development: MAIL_BACKEND=console sends no mail; the code is in the server's log.",
  outbox: "Development: MAIL_BACKEND=outbox keeps the mail in the dev outbox; it appears below.",
};
const RESET_SUBJECT = "Reset your Agora password";
const NOTHING_YET = "Nothing reached the dev outbox yet: with REDIS_URL set, is a worker running (make worker)?";

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

async function latestResetMail(email) {
  const outbox = await api("GET", `/api/v1/dev/mail-outbox?email=${encodeURIComponent(email)}`, { auth: false });
  return outbox.items.find((mail) => mail.subject === RESET_SUBJECT) || null;
}

/** Show in ``box`` the next message ``latest()`` reads (newer than ``before``), polling while it is on its way. */
async function showOutbox(box, latest, before, nothing = NOTHING_YET) {
  box.hidden = false;
  box.textContent = "Waiting for the message in the dev outbox…";
  const deadline = Date.now() + OUTBOX_WAIT_MS;
  while (Date.now() < deadline) {
    const message = await latest();
    if (message && (!before || message.created_at !== before.created_at)) {
      box.replaceChildren(el("strong", { text: "Dev outbox: " }), el("q", { text: message.body }));
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, OUTBOX_POLL_MS));
  }
  box.textContent = nothing;
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
  if (backend === "outbox") await showOutbox($("#outbox"), () => latestOutboxMessage(sent.phone), before);
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

const forgotForm = $("#forgot-form");
const resetForm = $("#reset-form");
let resetEmail = null;

onSubmit(forgotForm, async (form) => {
  const email = form.elements.email.value.trim();
  const before = mailBackend === "outbox" ? await latestResetMail(email).catch(() => null) : null;
  await api("POST", "/api/v1/auth/password/forgot", { body: { email }, auth: false });
  resetEmail = email;
  forgotForm.hidden = true;
  resetForm.hidden = false;
  // The same answer for every address: the page cannot know, and does not say, whether an account has it.
  $("#reset-sent").textContent = `If an account has ${email}, a 6-digit code is on its way there.`;
  $("#reset-where").textContent = WHERE_THE_MAIL_IS[mailBackend] || "";
  $("#reset-code").value = "";
  $("#reset-code").focus();
  if (mailBackend === "outbox") {
    await showOutbox($("#mail-outbox"), () => latestResetMail(email), before,
      `${NOTHING_YET} No mail is sent where no account has the address.`);
  }
});

onSubmit(resetForm, async (form) => {
  const body = { email: resetEmail, code: form.elements.code.value.trim(), password: form.elements.password.value };
  signedIn(await api("POST", "/api/v1/auth/password/reset", { body, auth: false }));
});

$("#reset-other-email").addEventListener("click", () => {
  resetForm.hidden = true;
  $("#mail-outbox").hidden = true;
  forgotForm.hidden = false;
  $("#forgot-email").focus();
});

start(async () => {
  if (session.signedIn) {
    const who = session.user ? ` as ${displayName(session.user)}` : "";
    $("#phone-section").before(el("p", { class: "hint", text: `You are signed in${who}; signing in again switches accounts.` }));
  }
});
