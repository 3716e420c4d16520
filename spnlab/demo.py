"""A terminal demo (`make quick-demo`): build an SPN, train it with EM, print log-likelihoods.

    python -m spnlab.demo            # or: make quick-demo

Trains a small RAT-SPN on generated binary data (three prototypes with 10% bit flips) with
online soft EM, prints the mean train/test log-likelihood per epoch, then shows a marginal
query, an MPE completion and samples, all checked against brute-force enumeration.
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import itertools  # noqa: E402

import numpy as np  # noqa: E402

import spnlab.core as spnk  # noqa: E402


def make_data(n, num_vars, seed):
    rng = np.random.default_rng(seed)
    protos = rng.integers(0, 2, size=(3, num_vars))
    x = protos[rng.integers(0, 3, size=n)]
    return np.where(rng.random(x.shape) < 0.1, 1 - x, x).astype(np.int32)


def main(epochs=8):
    num_vars = 10
    data = make_data(2500, num_vars, 0)
    train, test = data[:2000], data[2000:]
    model = spnk.ratspn(num_vars, depth=2, num_repetitions=4, num_input_distributions=4,
                        num_sums=4, sum_op=spnk.SumOpEMBackprop(), seed=0)
    model.compile(loss=spnk.losses.NegativeLogLikelihood(),
                  metrics=[spnk.metrics.LogLikelihood()],
                  optimizer=spnk.OnlineExpectationMaximization(learning_rate=0.3))
    print(f"RAT-SPN over {num_vars} binary variables, "
          f"{sum(int(np.prod(w.shape)) for w in model.trainable_weights):,} weights, online soft EM (lr 0.3), batch 100")
    print(f"epoch {0:>2}  train LL {spnk.log_likelihood(model, train).mean():8.4f}  "
          f"test LL {spnk.log_likelihood(model, test).mean():8.4f}")
    for epoch in range(1, epochs + 1):
        model.fit(train, batch_size=100, epochs=1, verbose=0)
        print(f"epoch {epoch:>2}  train LL {spnk.log_likelihood(model, train).mean():8.4f}  "
              f"test LL {spnk.log_likelihood(model, test).mean():8.4f}")

    states = np.asarray(list(itertools.product([0, 1], repeat=num_vars)), np.int32)
    joint = spnk.log_likelihood(model, states)
    print(f"sum of p(x) over all {len(states)} states: {np.exp(joint).sum():.6f}")
    x = test[:1]
    mask = np.zeros_like(x, bool)
    mask[0, :5] = True
    brute = np.log(np.exp(joint[np.all(states[:, :5] == x[0, :5], axis=1)]).sum())
    print(f"log p(x_0..4 = {x[0, :5]}) = {spnk.marginal(model, x, mask)[0]:.5f} "
          f"(brute force {brute:.5f})")
    print(f"MPE completion of the last five: {spnk.mpe(model, x, mask)[0]} (truth {x[0]})")
    print("three samples:\n", spnk.sample(model, 3, seed=0))


if __name__ == "__main__":
    main()
