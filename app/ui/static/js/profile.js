// My profile: details and checks, confirming my email with its mailed code, email and password (re-authenticated),
// enrichment, invite code (copy, activate someone's), referrals, points.
import {
  $, api, clearFormErrors, clearNotice, displayName, el, formatTime, onSubmit, pager, plural, requireSignIn, safeUrl, session,
  showFormError, showNotice, start, userLink,
} from "./agora.js";
import * as live from "./live.js";

const EMAIL_STATUS = {
  pending: "being checked",
  valid: "verified",
  invalid: "undeliverable: you can read but not write until you change it",
  risky: "may not receive mail",
  unknown: "could not be verified",
  failed: "the check failed; it will be tried again",
  skipped: "not checked (no verification service is configured)",
};
const WHERE_THE_MAIL_IS = {
  console: "Development: MAIL_BACKEND=console sends no mail; the code is in the server's log.",
  outbox: "Development: MAIL_BACKEND=outbox keeps the mail in the dev outbox; it appears below.",
};
const CONFIRM_SUBJECT = "Confirm your Agora address";
const OUTBOX_POLL_MS = 400;
const OUTBOX_WAIT_MS = 20000;
const ENRICHMENT_STATUS = {
  unconfirmed: "Public details about your email are looked up only once you confirm it.",
  pending: "Looking up public details about your email…",
  found: "Public details found about your email:",
  not_found: "Nothing public was found about your email.",
  failed: "The lookup of public details failed.",
  skipped: "Public details are not looked up on this server (no enrichment provider is configured).",
};

function fact(term, ...value) {
  return [el("dt", { text: term }), el("dd", {}, ...value)];
}

function link(url, text) {
  const href = safeUrl(url);
  return href ? el("a", { href, rel: "noopener noreferrer nofollow", text: text || href }) : text || String(url);
}

function renderDetails(me) {
  const email = me.email
    ? [el("span", { text: me.email }), " ", el("span", { class: `badge status-${me.email_status}`, text: EMAIL_STATUS[me.email_status] || me.email_status }),
      " ", el("span", { class: "badge", id: "email-confirmed", text: me.email_confirmed ? "confirmed" : "unconfirmed" })]
    : [el("span", { class: "hint", text: "none (sign up by email to add one)" })];
  $("#facts").replaceChildren(
    ...fact("Name", me.name || el("span", { class: "hint", text: "not set" })),
    ...fact("Your id", String(me.id)),
    ...fact("Phone", me.phone || el("span", { class: "hint", text: "none" })),
    ...fact("Email", ...email),
    ...fact("Points", el("strong", { id: "my-points", text: String(me.points) })),
    ...fact("Posts", el("a", { href: `/users/${Number(me.id)}`, text: plural(me.post_count, "post", "posts") })),
    ...fact("Joined", formatTime(me.created_at)),
  );
}

function renderEnrichment(me) {
  $("#enrichment-status").textContent = ENRICHMENT_STATUS[me.enrichment_status] || me.enrichment_status;
  const data = me.enrichment || {};
  const rows = [];
  if (data.full_name) rows.push(...fact("Full name", data.full_name));
  if (data.location) rows.push(...fact("Location", data.location));
  if (data.bio) rows.push(...fact("Bio", data.bio));
  const employer = data.employer || {};
  const job = [employer.title, employer.name, employer.domain && `(${employer.domain})`].filter(Boolean).join(" ");
  if (job) rows.push(...fact("Work", job));
  if (data.site) rows.push(...fact("Site", link(data.site)));
  if (data.avatar) rows.push(...fact("Avatar", link(data.avatar, "picture")));
  for (const [network, handle] of Object.entries(data.handles || {})) {
    if (handle) rows.push(...fact(network, String(handle)));
  }
  $("#enrichment").replaceChildren(...rows);
}

/** An address not yet proven: the field for its mailed code, and a button for a new one. */
function renderConfirmation(me) {
  const unconfirmed = Boolean(me.email) && !me.email_confirmed;
  $("#confirm-email").hidden = !unconfirmed;
  if (unconfirmed) {
    $("#confirm-email-text").textContent = `We mailed a 6-digit code to ${me.email}: enter it to prove the address is yours.`;
    $("#confirm-mail-hint").textContent = WHERE_THE_MAIL_IS[document.body.dataset.mailBackend] || "";
  }
}

/** Development (MAIL_BACKEND=outbox): show the newest confirmation mail to ``email``, waiting while it is on its way. */
async function showConfirmationMail(email, before = null) {
  if (document.body.dataset.mailBackend !== "outbox") return;
  const box = $("#confirm-mail-outbox");
  box.hidden = false;
  box.textContent = "Waiting for the mail in the dev outbox…";
  const deadline = Date.now() + OUTBOX_WAIT_MS;
  while (Date.now() < deadline) {
    const mail = await latestConfirmationMail(email);
    if (mail && mail.created_at !== before) {
      box.replaceChildren(el("strong", { text: "Dev outbox: " }), el("q", { text: mail.body }));
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, OUTBOX_POLL_MS));
  }
  box.textContent = "Nothing reached the dev outbox yet: with REDIS_URL set, is a worker running (make worker)?";
}

async function latestConfirmationMail(email) {
  const outbox = await api("GET", `/api/v1/dev/mail-outbox?email=${encodeURIComponent(email)}`, { auth: false });
  return outbox.items.find((mail) => mail.subject === CONFIRM_SUBJECT) || null;
}

async function confirmEmail(form) {
  const answer = await api("POST", "/api/v1/auth/email/confirm", { body: { code: form.elements.code.value.trim() } });
  form.reset();
  $("#email-code-sent").textContent = "";
  $("#confirm-mail-outbox").hidden = true;
  render(answer);
  showNotice("Your email is confirmed.", "success");
}

async function sendEmailCode(me) {
  const before = document.body.dataset.mailBackend === "outbox" ? await latestConfirmationMail(me.email) : null;
  const sent = await api("POST", "/api/v1/auth/email/code");
  $("#email-code-sent").textContent = `A new code is on its way to ${sent.email}.`;
  $("#email-code").focus();
  await showConfirmationMail(sent.email, before && before.created_at);
}

function renderInvite(me) {
  $("#invite-code").textContent = me.invite_code;
  const activated = Boolean(me.activated_invite_code);
  $("#activated").hidden = !activated;
  $("#invite-form").hidden = activated;
  if (activated) {
    const by = me.referred_by ? [": invited by ", userLink(me.referred_by)] : [];
    $("#activated-text").replaceChildren(`You activated the invite code ${me.activated_invite_code}`, ...by, ".");
  }
  $("#referral-count").textContent = String(me.referral_count);
}

/** Ask for the phone code instead of the password (an account signed up by phone has none). */
function usePhoneCode() {
  $("#current-password-field").hidden = true;
  $("#current-password").value = "";
  $("#phone-code-field").hidden = false;
}

function renderCredentials(me) {
  $("#use-phone-code").hidden = !me.phone;
  if (!me.email && me.phone) usePhoneCode();  // a phone account with no email has no password either
}

/** The email and password change: only what was typed, proven by the current password or a phone code. */
async function changeCredentials(form) {
  const body = {};
  const email = form.elements.email.value.trim();
  if (email) body.email = email;
  if (form.elements.password.value) body.password = form.elements.password.value;
  // An empty proof is left out: the API then says which one the change needs.
  const proof = $("#phone-code-field").hidden
    ? ["current_password", form.elements.current_password.value]
    : ["phone_code", form.elements.phone_code.value.trim()];
  if (proof[1]) body[proof[0]] = proof[1];
  let answer;
  try {
    answer = await api("PATCH", "/api/v1/users/me", { body });
  } catch (error) {
    if (error.fields && error.fields.phone_code && $("#phone-code-field").hidden) usePhoneCode();
    throw error;
  }
  // Every other session ended; this one goes on with the fresh tokens of the answer.
  if (answer.access_token) session.start({ access_token: answer.access_token, refresh_token: answer.refresh_token, user: answer });
  form.reset();
  if (body.password) {  // the account has a password now: it proves the next change
    $("#phone-code-field").hidden = true;
    $("#current-password-field").hidden = false;
  }
  render(answer);
  showNotice("Saved. Every other session of your account was signed out.", "success");
}

async function sendPhoneCode(me) {
  const sent = await api("POST", "/api/v1/auth/phone/code", { body: { phone: me.phone }, auth: false });
  $("#phone-code-sent").textContent = `A 4-digit code is on its way to ${sent.phone}.`;
  $("#phone-code").focus();
}

/** Everything the profile shows of ``me``; ``live``: a change from elsewhere, so fields being typed in are left alone. */
function render(me, { live: fromElsewhere = false } = {}) {
  session.remember(me);
  if (!fromElsewhere) {
    $("#name").value = me.name || "";
    renderCredentials(me);
  }
  renderDetails(me);
  renderConfirmation(me);
  renderEnrichment(me);
  renderInvite(me);
}

async function copyInviteCode() {
  const code = $("#invite-code");
  let copied = false;
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(code.textContent);
      copied = true;
    } catch { /* denied: select it instead */ }
  }
  if (!copied) {
    const range = document.createRange();
    range.selectNodeContents(code);
    getSelection().removeAllRanges();
    getSelection().addRange(range);
  }
  $("#copy-result").textContent = copied ? "Copied." : "Selected: press Ctrl+C to copy.";
}

/** A referral in the list, newest first, each person once (a page and a live event may both bring one). */
function renderReferral(referral, { first = false } = {}) {
  const list = $("#referrals");
  if (list.querySelector(`[data-user-id="${Number(referral.user.id)}"]`)) return;
  const item = el("li", { "data-user-id": referral.user.id },
    el("strong", { text: referral.contact || displayName(referral.user) }), " · ", userLink(referral.user), " · ",
    formatTime(referral.referred_at));
  if (first) list.prepend(item);
  else list.append(item);
  $("#referrals-empty").hidden = true;
}

if (requireSignIn()) {
  $("#copy-code").addEventListener("click", copyInviteCode);

  onSubmit($("#name-form"), async (form) => {
    const name = form.elements.name.value.trim();
    render(await api("PATCH", "/api/v1/users/me", { body: { name: name || null } }));
  });

  onSubmit($("#credentials-form"), async (form) => {
    clearNotice();
    await changeCredentials(form);
  });
  $("#use-phone-code").addEventListener("click", usePhoneCode);
  $("#send-phone-code").addEventListener("click", async () => {
    try {
      await sendPhoneCode(await api("GET", "/api/v1/users/me"));
    } catch (error) {
      showFormError($("#credentials-form"), error);
    }
  });

  onSubmit($("#confirm-email-form"), confirmEmail);
  $("#send-email-code").addEventListener("click", async () => {
    clearFormErrors($("#confirm-email-form"));
    try {
      await sendEmailCode(await api("GET", "/api/v1/users/me"));
    } catch (error) {
      showFormError($("#confirm-email-form"), error);
    }
  });

  onSubmit($("#invite-form"), async (form) => {
    const inviteCode = form.elements.invite_code.value.trim();
    render(await api("POST", "/api/v1/users/me/invite", { body: { invite_code: inviteCode } }));
  });

  const nextReferrals = pager({
    path: "/api/v1/users/me/referrals",
    button: $("#referrals-more"),
    render: (referral) => renderReferral(referral),
    onPage: () => { $("#referrals-empty").hidden = $("#referrals").children.length > 0; },
  });

  // A check finished (the event names only the statuses): the profile as it is now, details and all.
  live.on("profile.updated", async () => render(await api("GET", "/api/v1/users/me"), { live: true }));
  live.on("referral.created", (data) => {
    renderReferral(data.referral, { first: true });
    $("#referral-count").textContent = String(data.referral_count);
  });
  live.on("resync", async () => {
    render(await api("GET", "/api/v1/users/me"), { live: true });
    nextReferrals.reset();
    await nextReferrals();
  });

  start(() => live.goLive(async () => {
    const me = await api("GET", "/api/v1/users/me");
    render(me);
    if (me.email && !me.email_confirmed) showConfirmationMail(me.email).catch(() => {});  // in the background
    await nextReferrals();
  }));
}
