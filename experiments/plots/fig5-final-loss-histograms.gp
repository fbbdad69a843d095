# Fig. 5: histograms of the final held-out loss over the runs; one row per correlation, one column per model.
# The bins of one row are the same for every model, so the spreads can be compared along a row.
load "plot/common.gp"
set terminal svg size 420 * n_model, 300 * n_corr + 60 dynamic noenhanced font "sans,12" background "white"
set output "fig5-final-loss-histograms.svg"
set multiplot layout n_corr,n_model title sprintf("Final held-out loss after %d steps, %d runs per panel", steps, runs)
set style fill solid 0.7 border rgb "#333333"
set grid ytics
set xlabel "final " . loss_label
set ylabel "number of runs"
set yrange [0:*]
set key top right
do for [c = 1:n_corr] {
  do for [m = 1:n_model] {
    set title word(titles, m) . ", correlation " . word(correlations, c)
    plot "plot/hist.dat" index block(m, c) using 1:2:3 with boxes lc rgb mcolor(word(models, m)) notitle
  }
}
unset multiplot
