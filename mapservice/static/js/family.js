/* The family map in the browser: sites and areas from the page's data, popups built from
 * the list with textContent (data is never parsed as markup), address search, tap on the
 * map, the phone's location, walking isochrones, and a fresh list after every change
 * without reloading the page. Without this script the form still works (server side). */
(function () {
  "use strict";
  var form = document.getElementById("filters");
  var results = document.getElementById("results");
  var map = window.mapserviceMap;
  if (!form || !results || !map || !window.fetch) return;

  var text = JSON.parse(document.getElementById("family-text").textContent);
  var data = JSON.parse(document.getElementById("map-data").textContent);
  var where = document.getElementById("where");
  var lat = document.getElementById("lat");
  var lon = document.getElementById("lon");
  var suggestions = document.getElementById("suggestions");
  var status = document.getElementById("where-status");
  var locate = document.getElementById("locate");
  var printLink = document.getElementById("print-link");
  var reachColours = { 5: "#08519c", 10: "#3182bd", 15: "#6baed6", 20: "#9ecae1" };

  var sitesLayer = L.featureGroup().addTo(map);
  var areasLayer = L.featureGroup().addTo(map);
  var reachLayer = L.featureGroup().addTo(map);
  var originLayer = L.featureGroup().addTo(map);
  var generation = 0;
  var reachKey = "";

  function el(tag, className, content) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (content) node.textContent = content;
    return node;
  }

  function offerLink(id) {
    var entry = document.getElementById("offer-" + id);
    var title = entry && entry.querySelector(".offer-title a");
    if (!title) return null;
    var item = el("li");
    var link = el("a", null, title.textContent);
    link.href = title.getAttribute("href");
    item.appendChild(link);
    var walk = entry.querySelector(".walk-minutes");
    if (walk) item.appendChild(el("span", "popup-walk", " · " + walk.textContent));
    return item;
  }

  function sitePopup(row) {
    return function () {
      var box = el("div", "popup");
      box.appendChild(el("h3", "popup-site", row[3]));
      if (row[2]) box.appendChild(el("p", "popup-anchor", text.anchor));
      if (row[4]) box.appendChild(el("p", "popup-address", row[4]));
      var list = el("ul", "popup-offers");
      row[5].forEach(function (id) {
        var item = offerLink(id);
        if (item) list.appendChild(item);
      });
      if (list.children.length) box.appendChild(list);
      else box.appendChild(el("p", null, text.none));
      return box;
    };
  }

  function drawSites() {
    sitesLayer.clearLayers();
    areasLayer.clearLayers();
    data.sites.forEach(function (row) {
      L.circleMarker([row[0], row[1]], data.styles[row[2]])
        .bindPopup(sitePopup(row), { maxWidth: 300 })
        .bindTooltip(el("span", null, row[3]))
        .addTo(sitesLayer);
    });
    L.geoJSON(data.areas, {
      style: function () { return data.areaStyle; },
      onEachFeature: function (feature, layer) {
        layer.bindPopup(function () {
          var box = el("div", "popup");
          var list = el("ul", "popup-offers");
          var item = offerLink(feature.properties.id);
          if (item) list.appendChild(item);
          box.appendChild(list);
          return box;
        });
      },
    }).addTo(areasLayer);
  }

  function drawOrigin() {
    originLayer.clearLayers();
    if (!data.origin) {
      reachLayer.clearLayers();
      reachKey = "";
      return;
    }
    L.circleMarker(data.origin, {
      radius: 8, color: "#000", weight: 3, fillColor: "#ffd92f", fillOpacity: 1, className: "origin",
    }).bindTooltip(el("span", null, where.value || text.point)).addTo(originLayer);
    var steps = [5, 10, 15, 20].filter(function (m) { return m <= data.minutes; });
    var params = new URLSearchParams({
      lat: data.origin[0], lon: data.origin[1], minutes: steps.join(","), profile: data.profile,
    });
    var key = params.toString();
    if (key === reachKey) return;
    reachKey = key;
    fitPlace(null);  // at once, so the base map loads where the family looks
    fetch("/api/isochrone?" + key, { headers: { Accept: "application/geo+json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (bands) {
        if (!bands || key !== reachKey) return;
        reachLayer.clearLayers();
        var layer = L.geoJSON(bands, {
          interactive: false,
          style: function (f) {
            var c = reachColours[f.properties.minutes] || "#3182bd";
            return { color: c, weight: 1, fillColor: c, fillOpacity: 0.12, dashArray: f.properties.estimated ? "4 4" : null };
          },
        }).addTo(reachLayer);
        layer.bringToBack();
        document.documentElement.dataset.reach = bands.estimated ? "estimated" : "network";
        fitPlace(layer.getBounds());
      })
      .catch(function () { /* the list still answers */ });
  }

  /* The chosen place, the offers reached from it and (once known) the walking area, in view:
   * wherever the place is (in Witten too), whatever the screen. */
  function fitPlace(areaBounds) {
    if (!data.origin) return;
    var bounds = L.latLngBounds([data.origin, data.origin]);
    data.sites.forEach(function (row) {
      if (row[5].length) bounds.extend([row[0], row[1]]);
    });
    if (areaBounds && areaBounds.isValid()) bounds.extend(areaBounds);
    map.fitBounds(bounds, { padding: [12, 12], maxZoom: 16, animate: false });
  }

  function queryString() {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) {
      if (value !== "") params.append(key, value);
    });
    return params.toString();
  }

  function update(resultsUrl, focusId) {
    var mine = ++generation;
    var started = performance.now();
    var url = typeof resultsUrl === "string" ? resultsUrl : "/results?" + queryString();
    return fetch(url, { headers: { Accept: "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (answer) {
        if (mine !== generation) return;
        results.innerHTML = answer.html;
        data = answer.map;
        var pinned = new URL(answer.url, location.href).searchParams;
        if (pinned.get("lat")) {
          lat.value = pinned.get("lat");
          lon.value = pinned.get("lon");
          where.value = pinned.get("where") || where.value;
        }
        drawSites();
        drawOrigin();
        history.replaceState(null, "", answer.url);
        if (printLink) printLink.href = answer.print_url;
        document.querySelectorAll("a[data-lang]").forEach(function (a) {
          var url = new URL(answer.url, location.href);
          url.searchParams.set("lang", a.dataset.lang);
          a.href = url.pathname + url.search;
        });
        // The first new offer's link after "next"; the list's heading (tabindex -1) after
        // "previous": focus moves there, and the view with it.
        var first = focusId && document.getElementById(focusId);
        var firstLink = first && (first.querySelector("a") || first);
        if (firstLink) firstLink.focus();
        window.familyLastUpdateMs = performance.now() - started;
        document.documentElement.dataset.updated = String(mine);
      })
      .catch(function () { status.textContent = text.failed; });
  }

  // "Previous" / "next page": loaded in place; the links themselves work without JavaScript.
  results.addEventListener("click", function (event) {
    var more = event.target.closest && event.target.closest("a.more-link");
    if (!more || !more.dataset.results) return;
    event.preventDefault();
    update(more.dataset.results, more.dataset.next);
  });

  var changeTimer = null;
  function scheduleUpdate(delay) {
    clearTimeout(changeTimer);
    changeTimer = setTimeout(update, delay);
  }

  function setPlace(newLat, newLon, label) {
    lat.value = Number(newLat).toFixed(6);
    lon.value = Number(newLon).toFixed(6);
    where.value = label;
    hideSuggestions();
    status.textContent = "";
    update();
  }

  function hideSuggestions() {
    suggestions.hidden = true;
    suggestions.textContent = "";
  }

  var searchTimer = null;
  where.addEventListener("input", function () {
    lat.value = "";
    lon.value = "";
    clearTimeout(searchTimer);
    var q = where.value.trim();
    if (q.length < 3) { hideSuggestions(); status.textContent = ""; return; }
    searchTimer = setTimeout(function () {
      status.textContent = text.searching;
      fetch("/api/geocode?" + new URLSearchParams({ q: q }))
        .then(function (r) { return r.json(); })
        .then(function (answer) {
          if (where.value.trim() !== q) return;
          suggestions.textContent = "";
          var places = answer.places || [];
          // Only a strong match may stand for what was typed; weak ones are "did you mean".
          var certain = places.length && places[0].match === "strong";
          places.forEach(function (place) {
            var item = el("li");
            var button = el("button", place.match === "strong" ? "suggestion" : "suggestion weak", place.label);
            button.type = "button";
            button.addEventListener("click", function () { setPlace(place.lat, place.lon, place.label); });
            item.appendChild(button);
            suggestions.appendChild(item);
          });
          suggestions.hidden = !suggestions.children.length;
          status.textContent = !places.length ? text.noMatch : certain ? text.matches : text.didYouMean;
        })
        .catch(function () { status.textContent = text.failed; });
    }, 200);
  });
  where.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown" && !suggestions.hidden) {
      event.preventDefault();
      suggestions.querySelector("button").focus();
    }
  });
  suggestions.addEventListener("keydown", function (event) {
    var buttons = Array.prototype.slice.call(suggestions.querySelectorAll("button"));
    var index = buttons.indexOf(document.activeElement);
    if (event.key === "ArrowDown" && index < buttons.length - 1) { event.preventDefault(); buttons[index + 1].focus(); }
    if (event.key === "ArrowUp") { event.preventDefault(); (index > 0 ? buttons[index - 1] : where).focus(); }
    if (event.key === "Escape") { hideSuggestions(); where.focus(); }
  });

  map.on("click", function (event) {
    setPlace(event.latlng.lat, event.latlng.lng, text.point);
  });

  if (navigator.geolocation && locate) {
    locate.hidden = false;
    locate.addEventListener("click", function () {
      status.textContent = text.locating;
      navigator.geolocation.getCurrentPosition(
        function (position) {
          status.textContent = "";
          setPlace(position.coords.latitude, position.coords.longitude, text.here);
        },
        function () { status.textContent = text.noLocation; },
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
      );
    });
  }

  form.addEventListener("change", function (event) {
    if (event.target === where) return;
    scheduleUpdate(50);
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    hideSuggestions();
    update().then(function () {
      var heading = document.getElementById("results-heading");
      if (heading) heading.focus();
    });
  });

  drawSites();
  drawOrigin();
  document.documentElement.dataset.updated = "0";
})();
