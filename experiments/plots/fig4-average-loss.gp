# Fig. 4: average held-out loss curves. Top row: one panel per correlation, the models compared (the paper's
# layout). Bottom row: one panel per model, the correlations compared (how much each model suffers from a
# lower correlation). All panels share one y range.
load "plot/common.gp"
cols = n_corr > n_model ? n_corr : n_model
set terminal svg size 480 * cols, 900 dynamic noenhanced font "sans,13" background "white"
set output "fig4-average-loss.svg"
stats "plot/curves_mean.dat" using 3 nooutput
ylo = STATS_min * 0.9
# The top of the range leaves out the first 5 points of each curve (the untrained start), when there are more.
stats "plot/curves_mean.dat" using 3 every ::(curve_points > 10 ? 5 : 0) nooutput
yhi = STATS_max * 1.1
set multiplot layout 2,cols title sprintf("Average held-out loss over %d runs (%d held-out rows per run; noise floor %g)", runs, heldout_rows, noise_floor)
set logscale y
set ytics ("0.02" 0.02, "0.03" 0.03, "0.05" 0.05, "0.07" 0.07, "0.1" 0.1, "0.15" 0.15, "0.2" 0.2, "0.3" 0.3, "0.5" 0.5, "0.7" 0.7, "1" 1, "2" 2, "3" 3, "5" 5, "10" 10)
set yrange [ylo:yhi]
set grid xtics ytics mytics
set xlabel step_label font "sans,11"
set ylabel loss_label . "  (log scale)"
set key top right box opaque
do for [c = 1:n_corr] {
  set title "correlation ".word(correlations, c)
  plot for [m = 1:n_model] "plot/curves_mean.dat" index block(m, c) using 1:3 with lines lw 2 lc rgb mcolor(word(models, m)) title word(titles, m)
}
do for [i = n_corr + 1:cols] { set multiplot next }
do for [m = 1:n_model] {
  set title word(titles, m)
  plot for [c = 1:n_corr] "plot/curves_mean.dat" index block(m, c) using 1:3 with lines lw 2 lc rgb ccolor(c) title "correlation ".word(correlations, c)
}
unset multiplot
