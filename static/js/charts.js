// The dashboards' charts: Apache ECharts with the SVG renderer, drawn from the JSON each page
// embeds with Django's json_script (never inline code). Every chart has a table of the same
// numbers under it; this script only adds the picture. Labels arrive translated from the server.
(function () {
  "use strict";
  if (typeof window.echarts === "undefined") return;
  var echarts = window.echarts;
  var root = document.documentElement;
  var style = getComputedStyle(root);
  var LOCALE = (root.lang || "zh-hans").toLowerCase().indexOf("en") === 0 ? "EN" : "ZH";
  // Name the font: in SVG <text> Chinese otherwise falls back to a Japanese face.
  var FONT = style.fontFamily || "sans-serif";

  function cssVar(name, fallback) {
    return style.getPropertyValue(name).trim() || fallback;
  }

  function domainColour(index) {
    return cssVar("--domain-" + index, "#0b6bcb");
  }

  var COLOURS = {
    final: cssVar("--chart-final", "#0b6bcb"),
    self: cssVar("--chart-self", "#f79009"),
    target: cssVar("--chart-target", "#b42318"),
    next: cssVar("--chart-next", "#7a5af8"),
    heat: [
      cssVar("--heat-met", "#a6f4c5"),
      cssVar("--heat-gap-1", "#fedf89"),
      cssVar("--heat-gap-2", "#fda29b"),
      cssVar("--heat-none", "#eaecf0"),
    ],
  };

  function base(extra) {
    var option = {
      animation: false,
      textStyle: { fontFamily: FONT },
      tooltip: { confine: true },
    };
    Object.keys(extra).forEach(function (key) {
      option[key] = extra[key];
    });
    return option;
  }

  function numbers(values) {
    return values.map(function (v) {
      return v === null || v === undefined ? 0 : v;
    });
  }

  function levelAxis(max) {
    return { type: "value", min: 0, max: max, interval: 1 };
  }

  function radarSeries(name, values, colour, dashed, area) {
    return {
      type: "radar",
      name: name,
      symbolSize: 4,
      lineStyle: { color: colour, width: 2, type: dashed ? "dashed" : "solid" },
      itemStyle: { color: colour },
      areaStyle: area ? { color: colour, opacity: 0.15 } : undefined,
      data: [{ name: name, value: numbers(values) }],
    };
  }

  var builders = {
    radar: function (data) {
      var series = [
        radarSeries(data.series[0].name, data.series[0].values, COLOURS.final, false, true),
        radarSeries(data.series[1].name, data.series[1].values, COLOURS.self, true, false),
      ];
      if (data.targets.length) {
        var target = data.targets[0];
        series.push(radarSeries(target.name, target.values, COLOURS.target, true, false));
      }
      return base({
        legend: { bottom: 0, type: "scroll" },
        tooltip: { trigger: "item", confine: true },
        radar: {
          radius: "62%",
          center: ["50%", "48%"],
          splitNumber: data.max,
          indicator: data.axes.map(function (axis) {
            return { name: axis.name, min: 0, max: data.max, color: domainColour(axis.domain) };
          }),
          axisName: { fontSize: 11, fontFamily: FONT },
        },
        series: series,
      });
    },

    depth: function (data) {
      return base({
        grid: { left: 40, right: 20, top: 30, bottom: 40 },
        xAxis: { type: "category", data: data.industries },
        yAxis: levelAxis(data.max),
        series: [
          {
            type: "bar",
            name: data.series[0].name,
            data: numbers(data.series[0].values),
            barMaxWidth: 48,
            itemStyle: { color: COLOURS.final },
            label: { show: true, position: "top" },
            markLine: {
              symbol: "none",
              lineStyle: { color: COLOURS.target, type: "dashed" },
              label: { position: "insideEndTop", formatter: "{b}: {c}" },
              data: data.marks.map(function (mark) {
                return { name: mark.name, yAxis: mark.value };
              }),
            },
          },
        ],
      });
    },

    history: function (data) {
      return base({
        legend: { bottom: 0, type: "scroll" },
        tooltip: { trigger: "axis", confine: true },
        grid: { left: 40, right: 20, top: 20, bottom: 50 },
        xAxis: { type: "category", data: data.cycles },
        yAxis: levelAxis(data.max),
        series: data.series.map(function (s) {
          var colour = domainColour(s.domain);
          return {
            type: "line",
            name: s.name,
            data: s.values,
            connectNulls: true,
            lineStyle: { color: colour },
            itemStyle: { color: colour },
          };
        }),
      });
    },

    shapes: function (data) {
      return base({
        grid: { left: 40, right: 20, top: 20, bottom: 40 },
        xAxis: { type: "category", data: data.labels },
        yAxis: { type: "value", minInterval: 1 },
        series: [
          {
            type: "bar",
            name: data.series[0].name,
            data: data.series[0].values,
            barMaxWidth: 48,
            itemStyle: { color: COLOURS.final },
            label: { show: true, position: "top" },
          },
        ],
      });
    },

    means: function (data) {
      var names = data.axes.map(function (axis) {
        return axis.name;
      });
      return base({
        legend: { bottom: 0 },
        tooltip: { trigger: "axis", confine: true },
        grid: { left: 40, right: 20, top: 20, bottom: 80 },
        xAxis: { type: "category", data: names, axisLabel: { interval: 0, rotate: 35, fontSize: 11 } },
        yAxis: levelAxis(data.max),
        series: [
          {
            type: "bar",
            name: data.series[0].name,
            barMaxWidth: 36,
            data: data.axes.map(function (axis, i) {
              return { value: data.series[0].values[i], itemStyle: { color: domainColour(axis.domain) } };
            }),
          },
          {
            type: "scatter",
            name: data.series[1].name,
            symbol: "rect",
            symbolSize: [26, 4],
            itemStyle: { color: COLOURS.target },
            data: data.series[1].values,
          },
        ],
      });
    },

    heatmap: function (data, el) {
      var rows = data.members.length;
      el.style.height = Math.max(160, rows * 26 + 90) + "px";
      var cells = data.series[0].cells
        .filter(function (c) {
          return c[2] !== null;
        })
        .map(function (c) {
          var band = c[3] === null ? 3 : c[3] >= 0 ? 0 : c[3] === -1 ? 1 : 2;
          return [c[0], c[1], c[2], band];
        });
      return base({
        grid: { left: 120, right: 20, top: 10, bottom: 50 },
        xAxis: {
          type: "category",
          data: data.axes.map(function (axis) {
            return axis.code;
          }),
          splitArea: { show: true },
        },
        yAxis: { type: "category", data: data.members, inverse: true, splitArea: { show: true } },
        visualMap: {
          type: "piecewise",
          dimension: 3,
          show: false,
          pieces: [
            { value: 0, color: COLOURS.heat[0] },
            { value: 1, color: COLOURS.heat[1] },
            { value: 2, color: COLOURS.heat[2] },
            { value: 3, color: COLOURS.heat[3] },
          ],
        },
        tooltip: {
          confine: true,
          // A tooltip formatter returns HTML: names are people's, so encode them.
          formatter: function (p) {
            var text = data.members[p.value[1]] + " · " + data.axes[p.value[0]].name + ": " + p.value[2];
            return echarts.format.encodeHTML(text);
          },
        },
        series: [
          {
            type: "heatmap",
            name: data.series[0].name,
            data: cells,
            label: {
              show: true,
              formatter: function (p) {
                return String(p.value[2]);
              },
            },
            itemStyle: { borderColor: "#fff", borderWidth: 1 },
          },
        ],
      });
    },
  };

  function readData(el) {
    var source = document.getElementById(el.dataset.source);
    return source ? JSON.parse(source.textContent) : null;
  }

  var charts = [];
  document.querySelectorAll("[data-chart]").forEach(function (el) {
    var build = builders[el.dataset.chart];
    var data = readData(el);
    if (!build || !data) return;
    var chart = echarts.init(el, null, { renderer: "svg", locale: LOCALE });
    chart.setOption(build(data, el));
    el.dataset.seriesCount = String(chart.getOption().series.length);
    el.dataset.drawn = "true";
    charts.push(chart);
  });

  // The radar's target: the current grade's or the next grade's (the table shows both).
  document.querySelectorAll("[data-chart-switch]").forEach(function (fieldset) {
    var el = document.getElementById(fieldset.dataset.chartSwitch);
    var chart = el && echarts.getInstanceByDom(el);
    var data = el && readData(el);
    if (!chart || !data) return;
    fieldset.hidden = false;
    fieldset.addEventListener("change", function (event) {
      var target = data.targets[parseInt(event.target.value, 10)];
      if (!target) return;
      var colour = target.key === "next" ? COLOURS.next : COLOURS.target;
      var series = chart.getOption().series;
      series[2] = radarSeries(target.name, target.values, colour, true, false);
      chart.setOption({ series: series }, { replaceMerge: ["series"] });
      el.dataset.target = target.key;
    });
  });

  function resizeAll() {
    charts.forEach(function (chart) {
      chart.resize();
    });
  }
  // Printing lays the page out at paper width: redraw at that width, and back afterwards.
  window.addEventListener("resize", resizeAll);
  var print = window.matchMedia ? window.matchMedia("print") : null;
  if (print && print.addEventListener) print.addEventListener("change", resizeAll);
})();
