// A small line plot written as PNG (training losses vs step).
#pragma once

#include <string>
#include <vector>

namespace colorgan {

struct PlotSeries {
  std::string label;
  std::vector<double> x;
  std::vector<double> y;
};

// Draws the series (each its own colour) with axes, tick labels and a legend.
// Throws std::runtime_error if the file cannot be written.
void write_line_plot(const std::string& path, const std::string& title, const std::vector<PlotSeries>& series);

}  // namespace colorgan
