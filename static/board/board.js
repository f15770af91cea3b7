// The staff board polls its panels with htmx; it holds off while someone is typing a
// reply or a cancel reason, so a refresh never wipes what they wrote.
window.boardIsIdle = function () {
  const active = document.activeElement;
  if (active && active.matches("input, textarea, select") && active.closest("main")) return false;
  if (document.querySelector("main details[open]")) return false;
  return !Array.from(document.querySelectorAll("main form input[name=text], main form input[name=reason]"))
    .some((field) => field.value.trim() !== "");
};
