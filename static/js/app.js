/* Progressive enhancement only: every page works without this file.
   - <time datetime="..."> shows in the viewer's time zone (data-format="relative"
     for "3 hours ago"), with the absolute time and zone as its title;
   - [data-fragment="url"] is filled with the HTML that URL answers (the
     dashboard's chart); its link shows the same thing as a page without JS. */
(function () {
  "use strict";

  var dateTime = new Intl.DateTimeFormat(undefined, {
    year: "numeric",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });
  // A bare date is a calendar day, not a moment: never shift it across zones.
  var dateOnly = new Intl.DateTimeFormat(undefined, {
    year: "numeric",
    month: "short",
    day: "numeric",
    timeZone: "UTC",
  });
  var relative =
    typeof Intl.RelativeTimeFormat === "function"
      ? new Intl.RelativeTimeFormat(undefined, { numeric: "auto" })
      : null;
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "local time";

  function ago(date) {
    if (!relative) return null;
    var seconds = Math.round((date.getTime() - Date.now()) / 1000);
    var steps = [
      [60, "second"],
      [60, "minute"],
      [24, "hour"],
      [7, "day"],
    ];
    var value = seconds;
    for (var i = 0; i < steps.length; i++) {
      if (Math.abs(value) < steps[i][0]) return relative.format(value, steps[i][1]);
      value = Math.round(value / steps[i][0]);
    }
    return null;
  }

  function localiseTimes(root) {
    var nodes = root.querySelectorAll("time[datetime]");
    for (var i = 0; i < nodes.length; i++) {
      var node = nodes[i];
      var value = node.getAttribute("datetime");
      var date = new Date(value);
      if (isNaN(date.getTime())) continue;
      var isDate = /^\d{4}-\d{2}-\d{2}$/.test(value);
      var absolute = isDate ? dateOnly.format(date) : dateTime.format(date);
      var style = node.getAttribute("data-format");
      var text = absolute;
      if (style === "relative" && !isDate) text = ago(date) || absolute;
      node.textContent = text;
      if (!isDate) node.title = absolute + " (" + zone + ")";
    }
  }

  function loadFragments(root) {
    var slots = root.querySelectorAll("[data-fragment]");
    Array.prototype.forEach.call(slots, function (slot) {
      var status = slot.querySelector(".fragment-status");
      fetch(slot.getAttribute("data-fragment"), {
        credentials: "same-origin",
        headers: { Accept: "text/html" },
      })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.text();
        })
        .then(function (html) {
          // Same-origin HTML rendered (and escaped) by the server's templates.
          slot.innerHTML = html;
          slot.removeAttribute("aria-busy");
          localiseTimes(slot);
        })
        .catch(function () {
          slot.removeAttribute("aria-busy");
          if (status) {
            status.textContent =
              "The chart could not be drawn: the issue store did not answer in " +
              "time. Reload the page to try again.";
          }
        });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    localiseTimes(document);
    loadFragments(document);
  });
  // Rows htmx puts in place (triage actions, "More reports") show local times too.
  document.addEventListener("htmx:afterSettle", function () {
    localiseTimes(document);
  });
})();
