# Fig. 3: Shared-Bottom's average loss curves, one line per task correlation.
load "plot/common.gp"
sb = model_index("shared-bottom")
if (sb == 0) { print "fig3: the experiment has no shared-bottom model"; exit status 1 }
set terminal svg size 1300,560 dynamic noenhanced font "sans,14" background "white"
set output "fig3-shared-bottom.svg"
set multiplot layout 1,2 title sprintf("Shared-Bottom at different task correlations (mean over %d runs)", runs)
set logscale y
set ytics ("0.02" 0.02, "0.03" 0.03, "0.05" 0.05, "0.07" 0.07, "0.1" 0.1, "0.15" 0.15, "0.2" 0.2, "0.3" 0.3, "0.5" 0.5, "0.7" 0.7, "1" 1, "2" 2, "3" 3, "5" 5, "10" 10)
set grid xtics ytics mytics
set xlabel step_label
set ylabel loss_label . "  (log scale)"
set key top right box opaque
set title "training loss (mean over the last 100 steps)"
plot for [c = 1:n_corr] "plot/curves_mean.dat" index block(sb, c) using 1:2 with lines lw 2 lc rgb ccolor(c) title "correlation ".word(correlations, c)
set title sprintf("held-out loss (%d fresh rows of the same task)", heldout_rows)
plot for [c = 1:n_corr] "plot/curves_mean.dat" index block(sb, c) using 1:3 with lines lw 2 lc rgb ccolor(c) title "correlation ".word(correlations, c)
unset multiplot
