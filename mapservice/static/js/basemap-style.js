/* The base map's style: OpenStreetMap vector tiles in the OpenMapTiles schema (as tilemaker
 * writes it; names in `name:latin`), drawn by protomaps-leaflet on a canvas.
 *
 * Made for a family reading a phone: calm, light colours under the service's own markers and
 * walking areas (blue, orange, purple, green), streets with their names, footpaths, railway
 * lines drawn strongly (in the Nordstadt they are the barrier that decides walking times),
 * water, parks and playgrounds, buildings and house numbers when zoomed in. Labels use the
 * device's own fonts (a generic stack): nothing is fetched from anywhere else.
 *
 * Zoom levels are the map's (Leaflet's); the renderer reads data one level lower (512-pixel
 * tiles), so the z14 data with every street name is shown from map zoom 15.
 * Exposes window.mapserviceBasemapStyle(protomapsL) -> {paintRules, labelRules, backgroundColor}. */
(function () {
  "use strict";

  var FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', 'Noto Sans Arabic', Arial, sans-serif";
  var colour = {
    background: "#f3f1ec",
    residential: "#efece6",
    industrial: "#ebe7e2",
    railwayLand: "#e6e2dd",
    school: "#efe8da",
    grass: "#dfead0",
    park: "#d5e6c3",
    wood: "#c9ddb5",
    playground: "#cde6b0",
    playgroundEdge: "#7fae5a",
    pitch: "#d9e8c8",
    cemetery: "#d7e0cc",
    water: "#b9d5e6",
    waterLine: "#9cc2da",
    building: "#e2ddd5",
    buildingEdge: "#cfc8bd",
    casing: "#cbc4b8",
    road: "#ffffff",
    mainRoad: "#fdf3dc",
    mainCasing: "#d6c49c",
    path: "#8c6d5a",
    rail: "#55524e",
    railGap: "#ffffff",
    tram: "#8b8782",
    label: "#3d3a36",
    labelMuted: "#6e6a64",
    halo: "#ffffff",
    boundary: "#b9a9c6",
  };
  var MAIN = ["motorway", "trunk", "primary", "secondary"];
  var MINOR = ["tertiary", "minor", "residential", "unclassified", "living_street", "busway"];
  var RAIL = ["rail", "narrow_gauge", "light_rail", "preserved"];

  function prop(f, key) {
    var v = f.props[key];
    return v === undefined || v === null ? "" : v;
  }
  function klass(f) { return prop(f, "class"); }
  function isIn(list) { return function (z, f) { return list.indexOf(klass(f)) >= 0; }; }
  function notTunnel(test) {
    return function (z, f) { return prop(f, "brunnel") !== "tunnel" && test(z, f); };
  }
  function font(size, weight) { return (weight || 400) + " " + size + "px " + FONT; }

  function names(f) { return prop(f, "name:latin") || prop(f, "name"); }

  /* Street names along the street. protomaps-leaflet's own line labels need a run of the
   * line that bends less than 4° at every vertex; the tiles below z14 cut streets at every
   * junction and wiggle, so at the zoom that shows the whole quarter hardly a street got its
   * name. This one accepts a stretch whose vertices stay within a few pixels of the straight
   * chord the text is written along (tried from the middle of the street outwards) and
   * otherwise behaves like the original (same collision boxes, halo, upright text). */
  function StreetLabel(options) { this.options = options; }
  StreetLabel.prototype.place = function (layout, geom, feature) {
    var name = names(feature);
    if (!name || name.length > 40 || !geom.length || !geom[0].length) return undefined;
    var o = this.options;
    var font = o.font(layout.zoom);
    layout.scratch.font = font;
    var metrics = layout.scratch.measureText(name);
    var width = metrics.width;
    var height = metrics.actualBoundingBoxAscent + metrics.actualBoundingBoxDescent;
    var need = width + height;  // a little room at both ends
    var tolerance = Math.max(1.5, height * 0.4);
    var best = null;
    for (var k = 0; k < geom.length && !best; k++) best = chordAlong(geom[k], need, tolerance);
    if (!best) return undefined;
    var Point = geom[0][0].constructor;
    var dx = best.end.x - best.start.x;
    var dy = best.end.y - best.start.y;
    var length = Math.sqrt(dx * dx + dy * dy);
    var ux = dx / length;
    var uy = dy / length;
    var offset = height / 2;  // text starts half a letter in
    var start = new Point(best.start.x + ux * offset, best.start.y + uy * offset);
    var bboxes = [];
    for (var i = 0; i < width + height; i += 2 * height) {
      var cx = start.x + ux * i;
      var cy = start.y + uy * i;
      bboxes.push({ minX: cx - height, minY: cy - height, maxX: cx + height, maxY: cy + height });
    }
    var fill = o.fill;
    var halo = o.stroke;
    var haloWidth = o.width;
    return [{
      anchor: start,
      bboxes: bboxes,
      deduplicationKey: name,
      deduplicationDistance: 250,
      draw: function (ctx) {
        ctx.globalAlpha = 1;
        ctx.rotate(Math.atan2(dy, dx));
        if (dx < 0) {  // never upside down
          ctx.scale(-1, -1);
          ctx.translate(-width, 0);
        }
        ctx.translate(0, height / 2);  // centred on the street
        ctx.font = font;
        ctx.lineWidth = haloWidth;
        ctx.strokeStyle = halo;
        ctx.strokeText(name, 0, 0);
        ctx.fillStyle = fill;
        ctx.fillText(name, 0, 0);
      },
    }];
  };

  /* The straight stretch of `need` pixels along a line that stays within `tolerance` of its
   * chord, as near the middle of the line as there is one; null if none. */
  function chordAlong(points, need, tolerance) {
    var n = points.length;
    if (n < 2) return null;
    var along = [0];
    for (var i = 1; i < n; i++) {
      along.push(along[i - 1] + Math.hypot(points[i].x - points[i - 1].x, points[i].y - points[i - 1].y));
    }
    var total = along[n - 1];
    if (total < need) return null;
    var starts = [];
    for (i = 0; i < n - 1; i++) if (along[i] + need <= total) starts.push(i);
    starts.sort(function (a, b) {
      return Math.abs(along[a] + need / 2 - total / 2) - Math.abs(along[b] + need / 2 - total / 2);
    });
    for (var s = 0; s < starts.length && s < 24; s++) {
      var first = starts[s];
      var target = along[first] + need;
      var j = first + 1;
      while (j < n - 1 && along[j] < target) j++;
      var seg = along[j] - along[j - 1];
      var t = seg > 0 ? (target - along[j - 1]) / seg : 0;
      var a = points[first];
      var end = {
        x: points[j - 1].x + (points[j].x - points[j - 1].x) * t,
        y: points[j - 1].y + (points[j].y - points[j - 1].y) * t,
      };
      var cx = end.x - a.x;
      var cy = end.y - a.y;
      var chord = Math.hypot(cx, cy);
      if (chord < need - tolerance) continue;
      var straight = true;
      for (var m = first + 1; m < j && straight; m++) {
        var off = Math.abs((points[m].x - a.x) * cy - (points[m].y - a.y) * cx) / chord;
        if (off > tolerance) straight = false;
      }
      if (straight) return { start: a, end: end };
    }
    return null;
  }

  window.mapserviceBasemapStyle = function (P) {
    var exp = P.exp;
    function area(layer, fill, test, extra) {
      var options = { fill: fill };
      if (extra) for (var key in extra) options[key] = extra[key];
      return { dataLayer: layer, symbolizer: new P.PolygonSymbolizer(options), filter: test };
    }
    function line(layer, test, options, minzoom) {
      return { dataLayer: layer, symbolizer: new P.LineSymbolizer(options), filter: test, minzoom: minzoom || 0 };
    }
    function roadWidth(stops) { return exp(1.6, stops); }

    var mainWidth = roadWidth([[10, 1], [13, 2.5], [15, 5], [17, 11], [19, 24]]);
    var minorWidth = roadWidth([[12, 0.5], [14, 1.5], [15, 3], [17, 8], [19, 18]]);
    var serviceWidth = roadWidth([[14, 0.5], [15, 1.2], [17, 4], [19, 9]]);
    function casing(width, extra) { return function (z) { return width(z) + extra; }; }

    var paintRules = [
      area("landuse", colour.residential, isIn(["residential", "suburb", "quarter", "neighbourhood"])),
      area("landuse", colour.industrial, isIn(["industrial", "commercial", "retail", "garages"])),
      area("landuse", colour.railwayLand, isIn(["railway"])),
      area("landuse", colour.school, isIn(["school", "kindergarten", "college", "university", "hospital"])),
      area("landcover", colour.wood, isIn(["wood", "forest"])),
      area("landcover", colour.grass, isIn(["grass", "farmland", "scrub", "wetland"])),
      area("landuse", colour.cemetery, isIn(["cemetery"])),
      area("park", colour.park, function () { return true; }),
      area("landcover", colour.park, function (z, f) {
        return ["park", "garden", "recreation_ground", "allotments"].indexOf(prop(f, "subclass")) >= 0;
      }),
      area("landuse", colour.pitch, isIn(["pitch", "stadium", "recreation_ground"])),
      // Playgrounds: a fresh green with a darker edge, so a family can spot them.
      area("landuse", colour.playground, isIn(["playground"]), {
        stroke: colour.playgroundEdge, width: function (z) { return z >= 15 ? 1.2 : 0; },
      }),
      area("water", colour.water, function () { return true; }),
      line("waterway", isIn(["river", "canal"]), { color: colour.waterLine, width: exp(1.6, [[10, 1], [15, 3], [18, 8]]) }),
      line("waterway", isIn(["stream", "ditch", "drain"]), { color: colour.waterLine, width: exp(1.6, [[13, 0.5], [16, 1.5], [18, 3]]) }, 13),
      // Buildings from map zoom 15; edges from 16.
      area("building", colour.building, function (z) { return z >= 15; }, {
        stroke: colour.buildingEdge, width: function (z) { return z >= 16 ? 0.8 : 0; },
      }),
      line("boundary", function (z, f) { return prop(f, "admin_level") <= 6; }, {
        color: colour.boundary, width: 1.2, opacity: 0.8,
      }),
      // Tunnels: faint, so the map does not suggest a way across where there is none above.
      line("transportation", function (z, f) {
        return prop(f, "brunnel") === "tunnel" && MAIN.concat(MINOR).indexOf(klass(f)) >= 0;
      }, { color: colour.casing, width: minorWidth, opacity: 0.5 }, 14),
      // Footpaths, steps, cycle and pedestrian ways: a dashed brown line.
      line("transportation", notTunnel(isIn(["path", "track", "pedestrian"])), {
        color: colour.path, width: exp(1.6, [[14, 0.8], [16, 1.5], [19, 3]]),
        dash: [3, 2], dashColor: colour.path, dashWidth: exp(1.6, [[14, 0.8], [16, 1.5], [19, 3]]),
        perFeature: true, opacity: 0.85,
      }, 14),
      // Road casings, then fills: minor below main.
      line("transportation", notTunnel(isIn(["service"])), { color: colour.casing, width: casing(serviceWidth, 1) }, 15),
      line("transportation", notTunnel(isIn(MINOR)), { color: colour.casing, width: casing(minorWidth, 1.2) }, 13),
      line("transportation", notTunnel(isIn(MAIN)), { color: colour.mainCasing, width: casing(mainWidth, 1.4) }),
      line("transportation", notTunnel(isIn(["service"])), { color: colour.road, width: serviceWidth }, 15),
      line("transportation", notTunnel(isIn(MINOR)), { color: colour.road, width: minorWidth }, 13),
      line("transportation", notTunnel(isIn(MAIN)), { color: colour.mainRoad, width: mainWidth }),
      // Tram lines: thin, grey.
      line("transportation", notTunnel(isIn(["tram"])), { color: colour.tram, width: exp(1.6, [[14, 0.8], [18, 2]]) }, 14),
      // Railway lines: the barrier. A dark line with white dashes inside, wide enough to see.
      line("transportation", notTunnel(isIn(RAIL)), {
        color: colour.rail, width: exp(1.6, [[10, 1], [13, 2], [15, 3.5], [18, 6]]),
      }),
      line("transportation", notTunnel(isIn(RAIL)), {
        color: colour.railGap, width: exp(1.6, [[13, 0.8], [15, 1.6], [18, 3]]),
        dash: [6, 6], dashColor: colour.railGap, dashWidth: exp(1.6, [[13, 0.8], [15, 1.6], [18, 3]]),
        perFeature: true,
      }, 13),
    ];

    var nameProps = function () { return ["name:latin", "name"]; };
    var labelRules = [
      {
        dataLayer: "place", maxzoom: 15,
        symbolizer: new P.CenteredTextSymbolizer({
          labelProps: nameProps, fill: colour.labelMuted, stroke: colour.halo, width: 2,
          font: font(13, 600), textTransform: "uppercase", letterSpacing: 1,
        }),
        filter: function (z, f) { return ["suburb", "quarter", "neighbourhood", "village", "town"].indexOf(klass(f)) >= 0 && !!names(f); },
      },
      {
        dataLayer: "transportation_name", minzoom: 13,
        symbolizer: new StreetLabel({
          fill: colour.label, stroke: colour.halo, width: 3,
          font: function (z) { return font(z >= 17 ? 14 : 12, 500); },
        }),
        filter: function (z, f) { return MAIN.concat(MINOR).indexOf(klass(f)) >= 0; },
      },
      {
        dataLayer: "transportation_name", minzoom: 16,
        symbolizer: new StreetLabel({
          fill: colour.path, stroke: colour.halo, width: 3,
          font: function () { return font(11, 400); },
        }),
        filter: isIn(["path", "pedestrian", "service", "track"]),
      },
      {
        dataLayer: "water_name", minzoom: 14,
        symbolizer: new P.CenteredTextSymbolizer({
          labelProps: nameProps, fill: "#3f6f8f", stroke: colour.halo, width: 2, font: font(12, 400),
        }),
      },
      {
        dataLayer: "park", minzoom: 14,
        symbolizer: new P.CenteredTextSymbolizer({
          labelProps: nameProps, fill: "#3d6a2a", stroke: colour.halo, width: 2, font: font(12, 500),
        }),
        filter: function (z, f) { return !!names(f); },
      },
      {
        dataLayer: "poi", minzoom: 15,
        symbolizer: new P.CenteredTextSymbolizer({
          labelProps: nameProps, fill: "#3d6a2a", stroke: colour.halo, width: 2, font: font(12, 500),
        }),
        filter: function (z, f) { return ["park", "garden", "playground"].indexOf(klass(f)) >= 0 && !!names(f); },
      },
      {
        dataLayer: "poi", minzoom: 14,
        symbolizer: new P.CenteredTextSymbolizer({
          labelProps: nameProps, fill: colour.rail, stroke: colour.halo, width: 2, font: font(12, 600),
        }),
        filter: function (z, f) { return klass(f) === "railway" && ["station", "halt"].indexOf(prop(f, "subclass")) >= 0; },
      },
      {
        dataLayer: "housenumber", minzoom: 17,
        symbolizer: new P.CenteredTextSymbolizer({
          labelProps: ["housenumber"], fill: colour.labelMuted, stroke: colour.halo, width: 2, font: font(10, 400),
        }),
      },
    ];
    return { paintRules: paintRules, labelRules: labelRules, backgroundColor: colour.background };
  };
})();
