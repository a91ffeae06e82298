// The feed (write, like, unlike, who liked) and a user's page (their profile and posts).
import {
  $, api, clearNotice, displayName, el, errorText, formatTime, onSubmit, pager, plural, session, start, userLink,
} from "./agora.js";
import * as live from "./live.js";

const authorId = document.body.dataset.authorId;
// Post id -> what shows a new like count on its card.
const shownCounts = new Map();

function likeCountText(count) {
  return plural(count, "like", "likes");
}

/** The "who liked" panel of a post: loaded when opened, reloaded after my like or unlike. */
function likersPanel(post) {
  const list = el("ul", { class: "plain-list likers-list" });
  const more = el("button", { type: "button", class: "secondary small", hidden: true, text: "More" });
  const empty = el("p", { class: "hint", hidden: true, text: "Nobody has liked this post yet." });
  const panel = el("div", { class: "likers", hidden: true }, el("h4", { text: "Liked by" }), list, empty, more);
  const next = pager({
    path: `/api/v1/posts/${post.id}/likes`,
    button: more,
    render: (like) => list.append(el("li", {}, userLink(like.user), " · ", formatTime(like.created_at))),
    onPage: () => { empty.hidden = list.children.length > 0; },
  });
  async function load() {
    list.replaceChildren();
    next.reset();
    await next();
  }
  return { panel, load };
}

function renderPost(post) {
  const me = session.user;
  const count = el("span", { class: "like-count", text: likeCountText(post.like_count) });
  const error = el("p", { class: "inline-error", role: "alert", hidden: true });
  const likers = likersPanel(post);
  let liked = post.liked_by_me;

  const toggle = el("button", { type: "button", class: "secondary small likers-toggle", "aria-expanded": "false", text: "Who liked" });
  toggle.addEventListener("click", async () => {
    const opening = likers.panel.hidden;
    likers.panel.hidden = !opening;
    toggle.setAttribute("aria-expanded", String(opening));
    error.hidden = true;
    if (opening) await likers.load().catch((failure) => { error.textContent = errorText(failure); error.hidden = false; });
  });

  const actions = [count];
  if (session.signedIn && (!me || me.id !== post.author.id)) {
    const like = el("button", { type: "button", class: "small like" });
    const show = () => {
      like.textContent = liked ? "Unlike" : "Like";
      like.setAttribute("aria-pressed", String(liked));
    };
    show();
    like.addEventListener("click", async () => {
      like.disabled = true;
      error.hidden = true;
      try {
        const answer = await api(liked ? "DELETE" : "POST", `/api/v1/posts/${post.id}/like`);
        liked = answer.liked;
        count.textContent = likeCountText(answer.like_count);
        show();
        if (!likers.panel.hidden) await likers.load();
      } catch (failure) {
        error.textContent = errorText(failure);
        error.hidden = false;
      } finally {
        like.disabled = false;
      }
    });
    actions.push(like);
  }
  actions.push(toggle);

  // A like or unlike of my post by someone else (live events reach the author alone): the count, and the open panel.
  shownCounts.set(Number(post.id), (likeCount) => {
    count.textContent = likeCountText(likeCount);
    if (!likers.panel.hidden) likers.load().catch(() => {});
  });

  return el("article", { class: "card post", "data-post-id": post.id, "data-author-id": post.author.id },
    el("header", { class: "meta" }, userLink(post.author), " · ", formatTime(post.created_at)),
    post.title ? el("h3", { text: post.title }) : null,
    el("p", { class: "post-body", text: post.body }),
    el("footer", { class: "row post-actions" }, ...actions),
    error,
    likers.panel);
}

function postList() {
  const list = $("#posts");
  const path = authorId ? `/api/v1/posts?author_id=${encodeURIComponent(authorId)}` : "/api/v1/posts";
  return pager({
    path,
    button: $("#posts-more"),
    render: (post) => list.append(renderPost(post)),
    onPage: () => { $("#posts-empty").hidden = list.children.length > 0; },
  });
}

async function showUser() {
  const user = await api("GET", `/api/v1/users/${encodeURIComponent(authorId)}`);
  document.title = `${displayName(user)} · Agora`;
  $("#user-name").textContent = displayName(user);
  const facts = [
    ["Id", String(user.id)],
    ["Points", String(user.points)],
    ["Posts", String(user.post_count)],
    ["Referrals", String(user.referral_count)],
  ];
  $("#user-facts").replaceChildren(
    ...facts.flatMap(([term, value]) => [el("dt", { text: term }), el("dd", { text: value })]),
    el("dt", { text: "Joined" }), el("dd", {}, formatTime(user.created_at)));
}

function setUpCompose() {
  $("#compose").hidden = !session.signedIn;
  $("#compose-signed-out").hidden = session.signedIn;
  onSubmit($("#post-form"), async (form) => {
    const body = { body: form.elements.body.value.trim() };
    const title = form.elements.title.value.trim();
    if (title) body.title = title;
    const post = await api("POST", "/api/v1/posts", { body });
    form.reset();
    clearNotice();
    $("#posts").prepend(renderPost(post));
    $("#posts-empty").hidden = true;
  });
}

function showLikeCount(data) {
  shownCounts.get(Number(data.post_id))?.(data.like_count);
}

/** After a break that lost events: my posts' counts as they are now. */
async function rereadMyPosts() {
  const me = session.user;
  const mine = [...document.querySelectorAll("article.post")].filter((card) => me && Number(card.dataset.authorId) === me.id);
  for (const card of mine) {
    try {
      const post = await api("GET", `/api/v1/posts/${Number(card.dataset.postId)}`);
      showLikeCount({ post_id: post.id, like_count: post.like_count });
    } catch (error) {
      if (error.status !== 404) throw error;  // deleted meanwhile: its card stays as it was
    }
  }
}

live.on("like.created", showLikeCount);
live.on("like.deleted", showLikeCount);
live.on("resync", rereadMyPosts);

start(() => live.goLive(async () => {
  if (authorId) {
    await showUser();
  } else {
    setUpCompose();
  }
  await postList()();
}));
