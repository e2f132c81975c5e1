/* Adds the service's own vector base map to the page's Leaflet map (window.mapserviceMap).
 *
 * The map element carries the settings in data-basemap (the archive's URL on this service,
 * its bounds, the highest zoom of its data and the attribution); protomaps-leaflet reads the
 * PMTiles archive with HTTP range requests and draws it on canvas tiles with the style in
 * basemap-style.js. Loaded with `defer`, so the page's map exists when this runs.
 * <html data-basemap="loading|drawn|failed"> tells tests (and curious people) how it went. */
(function () {
  "use strict";
  var element = document.querySelector("[data-basemap]");
  var map = window.mapserviceMap;
  var root = document.documentElement;
  if (!element || !map || !window.protomapsL || !window.mapserviceBasemapStyle) {
    if (element) root.dataset.basemap = "failed";
    return;
  }
  var config = JSON.parse(element.dataset.basemap);
  var style = window.mapserviceBasemapStyle(window.protomapsL);

  root.dataset.basemap = "loading";
  var layer = window.protomapsL.leafletLayer({
    url: config.url,
    maxDataZoom: config.maxDataZoom,
    bounds: config.bounds,
    paintRules: style.paintRules,
    labelRules: style.labelRules,
    backgroundColor: style.backgroundColor,
    attribution: config.attribution,
  });
  layer.on("loading", function () { root.dataset.basemap = "loading"; });
  layer.on("load", function () { root.dataset.basemap = "drawn"; });
  layer.on("tileerror", function () { root.dataset.basemap = "failed"; });
  layer.addTo(map);
  layer.bringToBack();
})();
