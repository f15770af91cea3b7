// Keep the newest text and the newest line of the call in view.
function scrollToEnd() {
  for (const list of document.querySelectorAll(".chat, .call-log")) list.scrollTop = list.scrollHeight;
}
document.addEventListener("DOMContentLoaded", scrollToEnd);
document.addEventListener("htmx:afterSettle", scrollToEnd);
// Opening the call tab after a call started elsewhere keeps its log at the end too.
document.addEventListener("change", (event) => { if (event.target.name === "tab") scrollToEnd(); });
// Clear the compose box once a text went (not an hx-on attribute: htmx runs those with eval,
// which the Content-Security-Policy forbids).
document.addEventListener("htmx:afterRequest", (event) => {
  const form = event.detail.elt;
  if (event.detail.successful && form.matches && form.matches("form.compose")) form.reset();
});
