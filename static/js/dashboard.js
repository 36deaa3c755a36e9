// Draws the dashboard's charts from the numbers the page carries (json_script
// "dashboard-charts") with the local copy of Apache ECharts. Every chart has the same
// numbers in a table beside it, so nothing depends on this script.
(function () {
  "use strict";
  var source = document.getElementById("dashboard-charts");
  if (!source || !window.echarts) return;
  var data = JSON.parse(source.textContent);
  var palette = ["#b71c1c", "#e57373", "#f9a825", "#558b2f", "#1565c0", "#6a1b9a",
                 "#00838f", "#ef6c00", "#4e342e", "#546e7a", "#ad1457", "#2e7d32"];
  var horizontal = { categories: true, political: true, ethnicity: true };
  var charts = [];

  // A shaded band over this month, which is not over yet, so that a low number there does
  // not read as a fall: over its bar, or over the last stretch of a line (a line's month is
  // a point, not a band).
  function thisMonth(spec, line) {
    var from = line ? spec.labels[spec.labels.length - 2] : spec.current;
    return {
      silent: true,
      itemStyle: { color: "rgba(84, 110, 122, 0.10)" },
      label: {
        // Above the band, ending at its right edge: over no bar, within the canvas.
        position: ["100%", -2], align: "right", verticalAlign: "bottom",
        formatter: spec.current_label, color: "#546e7a", fontSize: 11,
      },
      data: [[{ xAxis: from }, { xAxis: spec.current }]],
    };
  }

  function bars(chart, spec, width) {
    var flipped = horizontal[chart];
    // On a phone, names under the bars turn so that each one is shown.
    var rotate = !flipped && width < 560 && spec.labels.length > 4 ? 40 : 0;
    var labels = spec.labels.slice();
    var current = spec.current ? spec.labels.indexOf(spec.current) : -1;
    var series = spec.series.map(function (item, index) {
      return {
        name: item.name,
        type: chart === "joined" ? "line" : "bar",
        stack: spec.stacked ? "all" : undefined,
        data: flipped ? item.values.slice().reverse() : item.values.map(function (value, index) {
          // This month is not over: its bar is lighter, its point hollow.
          return index === current ? { value: value, itemStyle: { opacity: 0.45 } } : value;
        }),
        markArea: index === 0 && current > 0 ? thisMonth(spec, chart === "joined") : undefined,
        label: { show: !spec.stacked && spec.series.length === 1, position: flipped ? "right" : "top" },
        barMaxWidth: 36,
      };
    });
    if (flipped) labels.reverse();
    var names = { type: "category", data: labels, axisLabel: { interval: 0, rotate: rotate, hideOverlap: !flipped } };
    // Bars lying down carry their numbers: an axis of numbers under them would only crowd.
    var numbers = { type: "value", minInterval: 1, axisLabel: { show: !flipped }, splitLine: { show: !flipped } };
    return {
      color: palette,
      // Drawn on the canvas ("richText"), not as HTML with inline styles the CSP refuses.
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, confine: true, renderMode: "richText" },
      legend: spec.series.length > 1 ? { type: "scroll", top: 0 } : undefined,
      grid: { left: 8, right: 24, top: (spec.series.length > 1 ? 36 : 16) + (spec.current ? 16 : 0), bottom: 8, containLabel: true },
      xAxis: flipped ? numbers : names,
      yAxis: flipped ? names : numbers,
      series: series,
    };
  }

  // A donut keeps its labels on its rings; on a narrow card only the shares, the names
  // being in the legend under it, so that no label runs out of the card.
  function pie(spec, width) {
    var narrow = width < 480;
    return {
      color: palette,
      tooltip: { trigger: "item", confine: true, renderMode: "richText" },
      legend: { bottom: 0, type: "scroll" },
      series: [{
        type: "pie",
        radius: narrow ? ["30%", "62%"] : ["35%", "65%"],
        center: ["50%", "45%"],
        minShowLabelAngle: 12,
        label: {
          position: "inside",
          formatter: narrow ? "{d}%" : "{b}\n{d}%",
          color: "#fff",
          overflow: "truncate",
        },
        labelLine: { show: false },
        data: spec.labels.map(function (label, index) {
          return { name: label, value: spec.series[0].values[index] };
        }),
      }],
    };
  }

  function option(name, spec, element) {
    var width = element.clientWidth;
    return name === "sex" ? pie(spec, width) : bars(name, spec, width);
  }

  document.querySelectorAll(".chart[data-chart]").forEach(function (element) {
    var name = element.getAttribute("data-chart");
    var spec = data[name];
    if (!spec || !spec.labels.length) {
      element.hidden = true;
      return;
    }
    if (horizontal[name]) element.classList.add("rows-" + Math.min(spec.labels.length, 16));
    var chart = window.echarts.init(element, null, { renderer: "canvas" });
    chart.setOption(option(name, spec, element));
    charts.push({ chart: chart, name: name, spec: spec, element: element });
  });

  // The options depend on the card's width (turned names, donut labels): drawn anew.
  function redraw() {
    charts.forEach(function (item) {
      item.chart.resize();
      item.chart.setOption(option(item.name, item.spec, item.element), true);
    });
  }
  window.addEventListener("resize", redraw);
  // A printed dashboard shows the tables too.
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details.chart-table").forEach(function (details) {
      details.open = true;
    });
    redraw();
  });
})();
