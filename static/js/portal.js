// The request form: choosing another tenant (or peer tenant) reloads the page to list that
// tenant's VPCs, carrying what was typed; a "use this VPC" button fills the peer VPC id; and on
// any page the first problem shown ([data-focus]) takes the focus, so it is where the eye is.

// What a reload for another tenant keeps, and what it drops because it belonged to the old choice.
const CARRIED = ["tenant", "peer_tenant", "request_vpc_id", "accept_vpc_id", "accept_project_id", "name", "description"];
const DROPPED_ON_CHANGE = { tenant: ["request_vpc_id"], peer_tenant: ["accept_project_id", "accept_vpc_id"] };

document.addEventListener("change", (event) => {
  const select = event.target.closest("select[data-reload]");
  if (!select) {
    return;
  }
  const params = new URLSearchParams();
  const form = select.form;
  const dropped = DROPPED_ON_CHANGE[select.dataset.reload] || [];
  for (const name of CARRIED) {
    const field = form ? form.elements.namedItem(name) : null;
    if (field && field.value && !dropped.includes(name)) {
      params.set(name, field.value);
    }
  }
  params.set(select.dataset.reload, select.value);
  window.location.search = params.toString();
});

document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-fill]");
  if (button) {
    const field = document.getElementById(button.dataset.fill);
    if (field) {
      field.value = button.dataset.value;
      field.focus();
    }
  }
});

document.addEventListener("DOMContentLoaded", () => {
  const first = document.querySelector("[data-focus]");
  if (first) {
    first.focus();
    first.scrollIntoView({ block: "start" });
  }
});
