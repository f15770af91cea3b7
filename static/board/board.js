// The staff board polls its panels with htmx; it holds off while someone is typing a
// reply or a cancel reason, so a refresh never wipes what they wrote.
window.boardIsIdle = function () {
  const active = document.activeElement;
  if (active && active.matches("input, textarea, select") && active.closest("main")) return false;
  if (document.querySelector("main details[open]")) return false;
  return !Array.from(document.querySelectorAll("main form input[name=text], main form input[name=reason]"))
    .some((field) => field.value.trim() !== "");
};
// A panel's poll (htmx gives it no triggering event) is dropped while the board is busy. This
// is not an hx-trigger filter ("every 5s [boardIsIdle()]") because htmx runs those with eval,
// which the Content-Security-Policy forbids.
document.addEventListener("htmx:confirm", (event) => {
  if (!event.detail.triggeringEvent && event.detail.verb === "get" && !window.boardIsIdle()) {
    event.preventDefault();
  }
});
