// Normal, Student t and chi-squared distribution functions for intervals and p-values (meta-analysis,
// funnel limits). Accurate to about 1e-13, enough to match R's pnorm/qnorm/pt/qt to 1e-10.
#pragma once

namespace ark::stats {

double NormalCdf(double z);            // P(Z <= z)
double NormalQuantile(double p);       // inverse of NormalCdf, 0 < p < 1
double StudentTCdf(double t, double df);       // P(T <= t), df > 0
double StudentTQuantile(double p, double df);  // inverse of StudentTCdf, 0 < p < 1
double ChiSquaredUpperTail(double x, double df);  // P(X > x), df > 0

}  // namespace ark::stats
