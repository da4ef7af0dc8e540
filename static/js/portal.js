// Choosing another tenant on the request form reloads it with that tenant's VPCs.
document.addEventListener("change", (event) => {
  const select = event.target.closest("select[data-reload]");
  if (select) {
    window.location.search = new URLSearchParams({ [select.dataset.reload]: select.value }).toString();
  }
});
