# Fig. 5: histograms of the final held-out loss over the runs; one row per correlation, one column per model.
# Read from final.csv and binned here, on a log scale (a few Shared-Bottom runs end 100x above the rest, which
# would squash linear bins); the bins of one row are the same for every model, so spreads compare along a row.
load "plot/common.gp"
set datafile separator comma
nbins = 30
# The range of each row, before any yrange is set: stats on one column counts values as y and would drop
# those outside the y range (negative logarithms).
array LO[n_corr]
array HI[n_corr]
do for [c = 1:n_corr] {
  stats "final.csv" using (strcol(2) eq word(correlations, c) ? log10($5) : NaN) nooutput
  LO[c] = STATS_min
  HI[c] = STATS_max + 1e-9
}
set terminal svg size 420 * n_model, 300 * n_corr + 60 dynamic noenhanced font "sans,12" background "white"
set output "fig5-final-loss-histograms.svg"
set multiplot layout n_corr,n_model title sprintf("Final held-out loss after %d steps, %d runs per panel (log-spaced bins)", steps, runs)
set style fill solid 0.7 border rgb "#333333"
set grid ytics
set xlabel "final " . loss_label . " (log scale)"
set ylabel "number of runs"
set yrange [0:*]
set xtics ("0.01" -2, "0.02" log10(0.02), "0.05" log10(0.05), "0.1" -1, "0.2" log10(0.2), "0.5" log10(0.5), "1" 0, "2" log10(2), "5" log10(5), "10" 1, "20" log10(20))
do for [c = 1:n_corr] {
  cw = word(correlations, c)
  lo = LO[c]
  hi = HI[c]
  set xrange [lo - 0.05 : hi + 0.05]
  do for [m = 1:n_model] {
    mw = word(models, m)
    set title word(titles, m) . ", correlation " . cw
    plot "final.csv" using (strcol(1) eq mw && strcol(2) eq cw ? log10($5) : NaN) bins=nbins binrange [lo:hi] with boxes lc rgb mcolor(mw) notitle
  }
}
unset multiplot
