/* The offer page's small map: the site on the streets around it. Made here rather than by
 * folium (the page has no other map script); basemap.js, loaded after this, draws the base
 * map into it. The site's name is set as text, never parsed as markup. */
(function () {
  "use strict";
  var element = document.getElementById("offer-map");
  if (!element || !window.L) return;
  var place = JSON.parse(element.dataset.offerMap);
  var map = L.map(element, { center: place.center, zoom: place.zoom, scrollWheelZoom: false });
  var name = document.createElement("span");
  name.textContent = place.name;
  L.circleMarker(place.center, {
    radius: 9, color: "#4a2000", weight: 3, fillColor: "#e66101", fillOpacity: 0.95,
  }).bindTooltip(name).addTo(map);
  window.mapserviceMap = map;
})();
