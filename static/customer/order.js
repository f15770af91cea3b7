// The order page: a Print button on receipts (no inline handlers: the CSP forbids them).
// htmx polls the order itself (hx-trigger on #order) and swaps in the new stage.
document.addEventListener("click", (event) => {
  if (event.target.closest(".print-button")) window.print();
});
function showPrint() {
  document.querySelectorAll(".print-button").forEach((button) => { button.hidden = false; });
}
document.addEventListener("DOMContentLoaded", showPrint);
document.addEventListener("htmx:afterSettle", showPrint);
