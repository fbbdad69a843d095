# Fig. 2: Pearson correlation of the two labels against the cosine similarity of w1 and w2 (generator only).
load "plot/common.gp"
set terminal svg size 860,600 dynamic noenhanced font "sans,14" background "white"
set output "fig2-label-correlation.svg"
set title sprintf("Label correlation vs. cosine similarity (m = %d sines; %d trials of %d rows per point)", sines, sweep_trials, sweep_rows)
set xlabel "cosine similarity p = cos(w1, w2)  (dimensionless)"
set ylabel "Pearson correlation of y1 and y2  (dimensionless)"
set xrange [-1.05:1.05]
set yrange [-1.1:1.1]
set xtics 0.2
set ytics 0.2
set grid
set key top left box opaque
plot "plot/fig2.dat" using 1:4:5 with filledcurves fc rgb "#c6dbef" fs solid 1.0 noborder title "mean ± 2 standard deviations", \
     "" using 1:2 with linespoints lw 2 pt 7 ps 0.8 lc rgb "#1f77b4" title "mean over trials", \
     x with lines dt 2 lw 1 lc rgb "#555555" title "Pearson = p"
