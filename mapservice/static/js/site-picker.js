/* Placing a site on the editing pages: a click on the map writes the point into the
   latitude/longitude fields (and chooses "new site by map click" where that choice exists);
   the chosen point is shown as a marker to confirm. Without scripts the fields are typed. */
(function () {
  "use strict";
  var holder = document.getElementById("site-map");
  var dataBlock = document.getElementById("site-map-data");
  if (!holder || !dataBlock || typeof L === "undefined") { return; }
  var data = JSON.parse(dataBlock.textContent);
  var latInput = document.getElementById("site_lat");
  var lonInput = document.getElementById("site_lon");
  var lat = parseFloat(data.lat), lon = parseFloat(data.lon);
  var hasPoint = isFinite(lat) && isFinite(lon);
  var map = L.map(holder).setView(hasPoint ? [lat, lon] : data.center, data.zoom || 15);
  if (data.tiles) {
    L.tileLayer(data.tiles, { attribution: data.attribution, maxZoom: 19 }).addTo(map);
  }
  (data.sites || []).forEach(function (site) {
    L.circleMarker([site.lat, site.lon], { radius: 4, weight: 1 }).bindTooltip(site.name).addTo(map);
  });
  var marker = hasPoint ? L.marker([lat, lon]).addTo(map) : null;
  map.on("click", function (event) {
    var point = event.latlng;
    if (marker) { marker.setLatLng(point); } else { marker = L.marker(point).addTo(map); }
    latInput.value = point.lat.toFixed(6);
    lonInput.value = point.lng.toFixed(6);
    var byMap = document.querySelector('input[name="site_mode"][value="map"]');
    if (byMap) { byMap.checked = true; }
  });
})();
