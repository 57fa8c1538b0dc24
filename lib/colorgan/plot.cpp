#include "colorgan/plot.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace colorgan {
namespace {

std::string format_number(double v) {
  std::ostringstream out;
  out << std::setprecision(3) << v;
  return out.str();
}

}  // namespace

void write_line_plot(const std::string& path, const std::string& title, const std::vector<PlotSeries>& series) {
  constexpr int kWidth = 800, kHeight = 450, kLeft = 70, kRight = 20, kTop = 40, kBottom = 50;
  const cv::Scalar kColours[] = {{200, 80, 30}, {40, 120, 220}, {60, 170, 60}, {150, 60, 170}};
  cv::Mat image(kHeight, kWidth, CV_8UC3, cv::Scalar(255, 255, 255));

  double x0 = std::numeric_limits<double>::max(), x1 = std::numeric_limits<double>::lowest();
  double y0 = x0, y1 = x1;
  for (const auto& s : series) {
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!std::isfinite(s.y[i])) continue;
      x0 = std::min(x0, s.x[i]);
      x1 = std::max(x1, s.x[i]);
      y0 = std::min(y0, s.y[i]);
      y1 = std::max(y1, s.y[i]);
    }
  }
  if (x0 > x1) x0 = 0, x1 = 1, y0 = 0, y1 = 1;  // nothing to draw yet: empty axes
  if (x1 == x0) x1 = x0 + 1;
  if (y1 == y0) y1 = y0 + 1;
  const double pad = 0.05 * (y1 - y0);
  y0 -= pad;
  y1 += pad;
  auto px = [&](double x) { return kLeft + static_cast<int>((x - x0) / (x1 - x0) * (kWidth - kLeft - kRight)); };
  auto py = [&](double y) { return kHeight - kBottom - static_cast<int>((y - y0) / (y1 - y0) * (kHeight - kTop - kBottom)); };

  const cv::Scalar grey(160, 160, 160), black(0, 0, 0);
  cv::rectangle(image, {kLeft, kTop}, {kWidth - kRight, kHeight - kBottom}, grey);
  for (int t = 0; t <= 4; ++t) {
    const double xv = x0 + (x1 - x0) * t / 4, yv = y0 + (y1 - y0) * t / 4;
    cv::putText(image, format_number(xv), {px(xv) - 15, kHeight - kBottom + 18}, cv::FONT_HERSHEY_SIMPLEX, 0.4, black);
    cv::putText(image, format_number(yv), {5, py(yv) + 4}, cv::FONT_HERSHEY_SIMPLEX, 0.4, black);
    cv::line(image, {kLeft, py(yv)}, {kWidth - kRight, py(yv)}, cv::Scalar(230, 230, 230));
  }
  cv::putText(image, "step", {kWidth / 2 - 15, kHeight - 12}, cv::FONT_HERSHEY_SIMPLEX, 0.5, black);
  cv::putText(image, title, {kLeft, 25}, cv::FONT_HERSHEY_SIMPLEX, 0.6, black);
  for (size_t k = 0; k < series.size(); ++k) {
    const auto& s = series[k];
    const cv::Scalar colour = kColours[k % 4];
    std::vector<cv::Point> points;
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (std::isfinite(s.y[i])) points.emplace_back(px(s.x[i]), py(s.y[i]));
    }
    if (points.size() > 1) cv::polylines(image, points, false, colour, 1, cv::LINE_AA);
    const int ly = kTop + 18 + 18 * static_cast<int>(k);
    cv::line(image, {kWidth - kRight - 150, ly - 4}, {kWidth - kRight - 125, ly - 4}, colour, 2);
    cv::putText(image, s.label, {kWidth - kRight - 118, ly}, cv::FONT_HERSHEY_SIMPLEX, 0.45, black);
  }
  if (!cv::imwrite(path, image)) throw std::runtime_error("cannot write plot '" + path + "'");
}

}  // namespace colorgan
