# Shared by the figure scripts: run from the experiment's output directory (mmoe experiment does), after
# plot/meta.gp told what the data files hold. Colours: one per model, one per correlation, the same everywhere.
load "plot/meta.gp"
set encoding utf8
set datafile commentschars "#"
mcolor(name) = name eq "mmoe" ? "#1f77b4" : name eq "omoe" ? "#ff7f0e" : name eq "shared-bottom" ? "#2ca02c" : "#7f7f7f"
ccolor(i) = word("#1b9e77 #d95f02 #7570b3 #e7298a #66a61e #e6ab02 #a6761d #666666", (i - 1) % 8 + 1)
model_index(name) = sum [m = 1:n_model] (word(models, m) eq name ? m : 0)
block(m, c) = (m - 1) * n_corr + (c - 1)
loss_label = "loss = MSE(y1) + MSE(y2)"
step_label = sprintf("training step (batch of %d rows, Adam lr %g)", batch_size, lr)
