/*
 * Walking reach on the map: tap a point, see the isochrones and the reachable offers
 * listed by walking minutes.
 *
 * Usage (after Leaflet and the map exist):
 *   <ol id="reach-list"></ol>
 *   <script src="/static/js/reach.js"></script>
 *   <script>mapserviceReach.attach(map);</script>
 *
 * The page's own filters are read from its URL query (age_months / age_years /
 * birth_month, category, profile, minutes). All data text is set with textContent,
 * never as HTML. Requests go to this service only.
 */
(function () {
  "use strict";

  var BAND_COLOURS = { 5: "#1a9850", 10: "#fee08b", 15: "#f46d43" };
  var FORWARDED = ["age_months", "age_years", "age_extra_months", "birth_month", "category"];

  function pageQuery() {
    return new URLSearchParams(window.location.search);
  }

  function colour(minutes) {
    return BAND_COLOURS[minutes] || "#4575b4";
  }

  function text(tag, value, className) {
    var element = document.createElement(tag);
    element.textContent = value == null ? "" : String(value);
    if (className) element.className = className;
    return element;
  }

  function clear(element) {
    while (element.firstChild) element.removeChild(element.firstChild);
  }

  function minutesLabel(props) {
    var value = Math.round(props.walking_minutes);
    var label = (value < 1 ? "< 1" : String(value)) + " Min.";
    return props.estimated ? "ca. " + label + " (geschätzt)" : label;
  }

  function showError(list, message) {
    clear(list);
    list.appendChild(text("li", message, "reach-error"));
  }

  function attach(map, options) {
    options = options || {};
    var list = document.getElementById(options.listId || "reach-list");
    var layer = L.layerGroup().addTo(map);
    var marker = null;

    function fetchJson(path, params) {
      return fetch(path + "?" + params.toString(), {
        headers: { Accept: "application/geo+json, application/json" },
      }).then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) throw new Error(body.message || "Fehler " + response.status);
          return body;
        });
      });
    }

    function drawIsochrones(collection) {
      layer.clearLayers();
      // Largest band first, so that the smaller ones are drawn on top.
      collection.features.forEach(function (feature) {
        var minutes = feature.properties.minutes;
        L.geoJSON(feature, {
          style: {
            color: colour(minutes),
            weight: 1,
            fillOpacity: 0.25,
            dashArray: feature.properties.estimated ? "6 4" : null,
          },
          interactive: false,
        }).addTo(layer);
      });
    }

    function fillList(collection) {
      if (!list) return;
      clear(list);
      if (collection.estimated) {
        list.appendChild(
          text(
            "li",
            "Hier ist kein Fußwegenetz importiert: Die Zeiten sind aus der Luftlinie geschätzt.",
            "reach-estimated-note"
          )
        );
      }
      if (!collection.features.length) {
        list.appendChild(text("li", "Kein passendes Angebot in dieser Gehzeit.", "reach-empty"));
        return;
      }
      collection.features.forEach(function (feature) {
        var props = feature.properties;
        var item = document.createElement("li");
        item.appendChild(text("span", minutesLabel(props), "reach-minutes"));
        item.appendChild(document.createTextNode(" "));
        item.appendChild(text("strong", props.title, "reach-title"));
        if (props.site_name && props.site_name !== props.title) {
          item.appendChild(text("span", " – " + props.site_name, "reach-site"));
        }
        if (props.address) item.appendChild(text("span", ", " + props.address, "reach-address"));
        if (props.estimated) item.className = "reach-is-estimated";
        list.appendChild(item);
      });
    }

    function onClick(event) {
      var query = pageQuery();
      var lat = event.latlng.lat.toFixed(6);
      var lon = event.latlng.lng.toFixed(6);
      var profile = query.get("profile") || "adult";
      if (marker) layer.removeLayer(marker);
      var iso = new URLSearchParams({ lat: lat, lon: lon, profile: profile, minutes: "5,10,15" });
      var reach = new URLSearchParams({
        lat: lat,
        lon: lon,
        profile: profile,
        minutes: query.get("minutes") || "15",
      });
      FORWARDED.forEach(function (name) {
        var value = query.get(name);
        if (value) reach.set(name, value);
      });
      if (list) {
        clear(list);
        list.appendChild(text("li", "Wird berechnet …", "reach-loading"));
      }
      fetchJson("/api/isochrone", iso)
        .then(function (collection) {
          drawIsochrones(collection);
          marker = L.circleMarker(event.latlng, { radius: 6, color: "#000" }).addTo(layer);
          return fetchJson("/api/reachable", reach);
        })
        .then(fillList)
        .catch(function (error) {
          layer.clearLayers();
          if (list) showError(list, error.message);
        });
    }

    map.on("click", onClick);
    return {
      detach: function () {
        map.off("click", onClick);
        layer.remove();
      },
    };
  }

  window.mapserviceReach = { attach: attach };
})();
