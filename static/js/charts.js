// Home-measurement charts on the plan page: one Chart.js line chart per measurement type with
// the citizen's yellow and red limits drawn behind the lines. The data comes from a
// json_script element named by the canvas's data-chart attribute. No third-party plugins.
(function () {
  "use strict";

  const LINE_COLOURS = ["#0d6efd", "#6f42c1", "#198754"];
  const BAND = {
    yellow: { fill: "rgba(255, 193, 7, 0.16)", line: "rgba(204, 154, 6, 0.9)" },
    red: { fill: "rgba(220, 53, 69, 0.13)", line: "rgba(176, 42, 55, 0.9)" },
  };

  function has(value) {
    return value !== null && value !== undefined;
  }

  // Draws the limits behind the datasets: with one line, coloured bands (yellow between the
  // yellow and the red limit, red beyond the red limit); with two lines (blood pressure), dashed
  // lines in each series' colour so both sets of limits stay readable.
  const thresholdBands = {
    id: "thresholdBands",
    beforeDatasetsDraw(chart, _args, options) {
      const series = (options && options.series) || [];
      const { ctx, chartArea } = chart;
      const y = chart.scales.y;
      if (!chartArea || !y) return;
      const top = chartArea.top;
      const bottom = chartArea.bottom;
      const clampY = (value) => Math.min(bottom, Math.max(top, y.getPixelForValue(value)));

      function band(from, to, colour) {
        const y1 = clampY(from);
        const y2 = clampY(to);
        if (Math.abs(y2 - y1) < 0.5) return;
        ctx.fillStyle = colour;
        ctx.fillRect(chartArea.left, Math.min(y1, y2), chartArea.right - chartArea.left, Math.abs(y2 - y1));
      }

      function line(value, colour, dash) {
        if (!has(value) || value < y.min || value > y.max) return;
        const py = y.getPixelForValue(value);
        ctx.strokeStyle = colour;
        ctx.lineWidth = 1.5;
        ctx.setLineDash(dash);
        ctx.beginPath();
        ctx.moveTo(chartArea.left, py);
        ctx.lineTo(chartArea.right, py);
        ctx.stroke();
      }

      ctx.save();
      series.forEach((item, index) => {
        const limits = item.limits || {};
        if (series.length === 1) {
          if (has(limits.red_high)) band(limits.red_high, y.max, BAND.red.fill);
          if (has(limits.yellow_high)) {
            band(limits.yellow_high, has(limits.red_high) ? limits.red_high : y.max, BAND.yellow.fill);
          }
          if (has(limits.red_low)) band(y.min, limits.red_low, BAND.red.fill);
          if (has(limits.yellow_low)) {
            band(has(limits.red_low) ? limits.red_low : y.min, limits.yellow_low, BAND.yellow.fill);
          }
        }
        const dash = index === 0 ? [6, 4] : [2, 3];
        line(limits.yellow_high, BAND.yellow.line, dash);
        line(limits.yellow_low, BAND.yellow.line, dash);
        line(limits.red_high, BAND.red.line, dash);
        line(limits.red_low, BAND.red.line, dash);
      });
      ctx.restore();
    },
  };

  function severity(value, limits) {
    if ((has(limits.red_low) && value < limits.red_low) || (has(limits.red_high) && value > limits.red_high)) {
      return "red";
    }
    if (
      (has(limits.yellow_low) && value < limits.yellow_low) ||
      (has(limits.yellow_high) && value > limits.yellow_high)
    ) {
      return "yellow";
    }
    return null;
  }

  // The y range covers the values and the limits, so a band is visible even when all is well.
  function yRange(data) {
    const values = [];
    data.series.forEach((item) => {
      item.points.forEach((point) => values.push(point[1]));
      Object.values(item.limits || {}).forEach((limit) => {
        if (has(limit)) values.push(limit);
      });
    });
    if (!values.length) return {};
    const min = Math.min(...values);
    const max = Math.max(...values);
    const pad = (max - min || Math.abs(max) || 1) * 0.1;
    return { suggestedMin: min - pad, suggestedMax: max + pad };
  }

  // The page's language for Intl and Chart.js (which would otherwise use the browser's): English
  // as British English, so a date reads 6 Dec 2026 and never month first, like the server's.
  function pageLocale() {
    const lang = document.documentElement.lang;
    if (!lang) return undefined;
    return lang === "en" ? "en-GB" : lang;
  }

  function render(canvas) {
    const source = document.getElementById(canvas.dataset.chart);
    if (!source || !window.Chart) return;
    const data = JSON.parse(source.textContent);
    const lang = pageLocale();
    const day = new Intl.DateTimeFormat(lang, { day: "numeric", month: "short" });
    const moment = new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" });
    const number = new Intl.NumberFormat(lang, { maximumFractionDigits: data.decimals });

    const datasets = data.series.map((item, index) => {
      const colour = LINE_COLOURS[index % LINE_COLOURS.length];
      const limits = item.limits || {};
      const pointColour = (context) => {
        const raw = context.raw;
        const level = raw ? severity(raw.y, limits) : null;
        return level ? BAND[level].line : colour;
      };
      return {
        label: item.label,
        data: item.points.map((point) => ({ x: point[0], y: point[1] })),
        borderColor: colour,
        backgroundColor: colour,
        pointBackgroundColor: pointColour,
        pointBorderColor: pointColour,
        pointRadius: 3,
        tension: 0,
      };
    });

    new window.Chart(canvas, {
      type: "line",
      data: { datasets },
      plugins: [thresholdBands],
      options: {
        locale: lang,
        responsive: true,
        maintainAspectRatio: true,
        aspectRatio: 2.4,
        parsing: false,
        animation: false,
        interaction: { mode: "nearest", intersect: false },
        scales: {
          x: { type: "linear", ticks: { maxTicksLimit: 8, callback: (value) => day.format(new Date(value)) } },
          y: { ...yRange(data), title: { display: true, text: data.unit } },
        },
        plugins: {
          legend: { display: data.series.length > 1 },
          thresholdBands: { series: data.series },
          tooltip: {
            callbacks: {
              title: (items) => (items.length ? moment.format(new Date(items[0].parsed.x)) : ""),
              label: (item) => `${item.dataset.label}: ${number.format(item.parsed.y)} ${data.unit}`,
            },
          },
        },
      },
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    document.querySelectorAll("canvas[data-chart]").forEach(render);
  });
})();
