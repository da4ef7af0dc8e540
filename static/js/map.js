// The network map (/map/): draws the graph the data view returns (tenants holding their VPCs, peerings
// as arrows from requester to accepter, coloured by status) with cytoscape.js; a click on a VPC or a
// peering opens it; "Download PNG" saves the drawing.

const STATUS_COLOURS = {
  ACTIVE: "#1a7f37",
  PENDING_ACCEPTANCE: "#b7791f",
  AWAITING_APPROVAL: "#7a45b8",
  SUBMITTING: "#0b5cad",
  REJECTED: "#b42318",
  DECLINED: "#b42318",
  FAILED: "#8f1c13",
  EXPIRED: "#8a8a8a",
  DELETED: "#8a8a8a",
};

function mapStyle() {
  const edgeColours = Object.entries(STATUS_COLOURS).map(([status, colour]) => ({
    selector: `edge[status = "${status}"]`,
    style: { "line-color": colour, "target-arrow-color": colour },
  }));
  return [
    {
      selector: "node[kind = 'tenant']",
      style: {
        label: "data(label)", "text-valign": "top", "text-halign": "center", "font-weight": "bold",
        "font-size": 13, "background-color": "#f4f6f8", "border-color": "#a9b4c0", "border-width": 1,
        shape: "round-rectangle", padding: 14,
      },
    },
    { selector: "node[kind = 'tenant'][?mine]", style: { "border-color": "#0b5cad", "border-width": 2 } },
    {
      selector: "node[kind = 'vpc']",
      style: {
        label: "data(label)", "text-wrap": "wrap", "text-valign": "bottom", "text-margin-y": 4,
        "font-size": 11, width: 22, height: 22, "background-color": "#5fb0ff", "border-color": "#10253d",
        "border-width": 1,
      },
    },
    {
      selector: "edge",
      style: {
        width: 2, "curve-style": "bezier", "target-arrow-shape": "triangle", "arrow-scale": 0.9,
        label: "data(label)", "font-size": 9, "text-rotation": "autorotate", "text-background-color": "#fff",
        "text-background-opacity": 0.8, "text-background-padding": 1, color: "#1d2733",
      },
    },
    { selector: "edge[status = 'DELETED'], edge[status = 'EXPIRED']", style: { "line-style": "dashed" } },
    ...edgeColours,
    { selector: ":selected", style: { "overlay-opacity": 0.15, "overlay-color": "#f5a623" } },
  ];
}

function drawMap(container, data) {
  const summary = document.getElementById("map-summary");
  const counts = data.counts;
  summary.textContent = `${counts.tenants} tenant(s), ${counts.vpcs} VPC(s), ${counts.peerings} peering(s).`;
  if (data.truncated) {
    summary.textContent += ` Only the first ${data.limit} peerings are drawn: narrow the filters to see the rest.`;
  }
  if (counts.peerings === 0) {
    container.classList.add("empty-map");
    container.textContent = "No peering matches these filters.";
    return null;
  }
  const cy = window.cytoscape({
    container,
    elements: data.elements,
    style: mapStyle(),
    layout: { name: "cose", animate: false, nodeDimensionsIncludeLabels: true, randomize: false, padding: 20 },
    wheelSensitivity: 0.3,
    minZoom: 0.05,
    maxZoom: 4,
  });
  cy.on("tap", "node[kind = 'vpc'], edge", (event) => {
    window.location.href = event.target.data("url");
  });
  container.dataset.ready = "true";
  window.portalMap = cy; // for the browser tests and the curious
  return cy;
}

function downloadPng(cy) {
  const link = document.createElement("a");
  link.href = cy.png({ full: true, scale: 2, bg: "#ffffff" });
  link.download = "peering-map.png";
  document.body.appendChild(link);
  link.click();
  link.remove();
}

document.addEventListener("DOMContentLoaded", () => {
  const container = document.getElementById("network-map");
  if (!container) {
    return;
  }
  fetch(container.dataset.source, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then((response) => {
      if (!response.ok) {
        throw new Error(`the map's data answered ${response.status}`);
      }
      return response.json();
    })
    .then((data) => {
      const cy = drawMap(container, data);
      const button = document.getElementById("map-download");
      if (cy && button) {
        button.disabled = false;
        button.addEventListener("click", () => downloadPng(cy));
      }
    })
    .catch((error) => {
      container.textContent = `The map could not be drawn: ${error.message}.`;
    });
});
