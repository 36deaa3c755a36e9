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

  function bars(chart, spec, width) {
    var flipped = horizontal[chart];
    // On a phone, names under the bars turn so that each one is shown.
    var rotate = !flipped && width < 560 && spec.labels.length > 4 ? 40 : 0;
    var labels = spec.labels.slice();
    var series = spec.series.map(function (item) {
      return {
        name: item.name,
        type: chart === "joined" ? "line" : "bar",
        stack: spec.stacked ? "all" : undefined,
        data: flipped ? item.values.slice().reverse() : item.values,
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
      grid: { left: 8, right: 24, top: spec.series.length > 1 ? 36 : 16, bottom: 8, containLabel: true },
      xAxis: flipped ? numbers : names,
      yAxis: flipped ? names : numbers,
      series: series,
    };
  }

  function pie(spec) {
    return {
      color: palette,
      tooltip: { trigger: "item", confine: true, renderMode: "richText" },
      legend: { bottom: 0 },
      series: [{
        type: "pie",
        radius: ["35%", "65%"],
        label: { position: "inside", formatter: "{b}\n{d}%", color: "#fff" },
        data: spec.labels.map(function (label, index) {
          return { name: label, value: spec.series[0].values[index] };
        }),
      }],
    };
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
    chart.setOption(name === "sex" ? pie(spec) : bars(name, spec, element.clientWidth));
    charts.push(chart);
  });

  window.addEventListener("resize", function () {
    charts.forEach(function (chart) { chart.resize(); });
  });
  // A printed dashboard shows the tables too.
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details.chart-table").forEach(function (details) {
      details.open = true;
    });
    charts.forEach(function (chart) { chart.resize(); });
  });
})();
