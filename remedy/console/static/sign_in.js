// Sign-in page: check a pasted key with GET /v1/whoami, keep it for this tab, list the pages.
import { PAGES, api, clearFieldErrors, describeError, el, getKey, renderHeader, root, signIn,
  signOut } from "./api.js";

const form = document.getElementById("sign-in-form");
const input = document.getElementById("api-key");
const error = document.getElementById("api-key-error");

function showSignedIn(who) {
  renderHeader(who);
  document.getElementById("sign-in-section").hidden = true;
  document.getElementById("signed-in-section").hidden = false;
  document.getElementById("signed-in-summary").textContent =
    `Role ${who.role}, key ${who.prefix}` + (who.team ? `, scoped to team ${who.team}.` : ", all teams.");
  const usable = Object.values(PAGES).filter((page) => page.roles.includes(who.role));
  document.getElementById("page-list").replaceChildren(
    ...usable.map((page) => el("li", {}, el("a", { href: root + page.path }, page.label), ` – ${page.what}`)));
}

function showSignIn() {
  renderHeader(null);
  document.getElementById("sign-in-section").hidden = false;
  document.getElementById("signed-in-section").hidden = true;
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  clearFieldErrors(form);
  const key = input.value.trim();
  if (!key) {
    input.setAttribute("aria-invalid", "true");
    error.textContent = "Paste an API key.";
    return;
  }
  try {
    const who = await signIn(key);
    input.value = "";
    showSignedIn(who);
  } catch (failure) {
    input.setAttribute("aria-invalid", "true");
    error.textContent = failure.status === 401
      ? "That key is unknown or revoked."
      : describeError(failure).lines.join(" ");
  }
});

// Already signed in in this tab: check the key is still good.
if (getKey()) {
  api("GET", "/v1/whoami").then(showSignedIn, () => {
    signOut();
    showSignIn();
  });
} else {
  showSignIn();
}
