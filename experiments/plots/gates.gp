# Mean gate weight per expert per task: one row per gated model (OMoE, MMoE), one column per correlation.
# Experts are interchangeable, so each run's experts are ranked by task y1's gate weight before averaging.
load "plot/common.gp"
if (n_gated == 0) { print "gates: the experiment has no gated model"; exit status 1 }
set terminal svg size 420 * n_corr, 320 * n_gated + 60 dynamic noenhanced font "sans,12" background "white"
set output "gates.svg"
set multiplot layout n_gated,n_corr title sprintf("Mean gate weight per expert and task (%d runs; experts ranked by the y1 gate's weight in each run)", runs)
set style fill solid 0.8 noborder
set boxwidth 0.38
set grid ytics
set xrange [0.4:n_expert + 0.6]
set xtics 1
set yrange [0:*]
set xlabel "expert rank (1 = y1's favourite)"
set ylabel "mean gate weight (probability)"
set key top right box opaque
do for [g = 1:n_gated] {
  m = word(gated, g) + 0
  do for [c = 1:n_corr] {
    set title word(titles, m) . ", correlation " . word(correlations, c)
    b = (g - 1) * n_corr + (c - 1)
    plot "plot/gates.dat" index b using ($1 - 0.2):2 with boxes lc rgb "#1f77b4" title "task y1's gate", \
         "" index b using ($1 + 0.2):3 with boxes lc rgb "#d62728" title "task y2's gate", \
         1.0 / n_expert with lines dt 2 lc rgb "#555555" title "uniform 1/n"
  }
}
unset multiplot
