"""Plots for the backprop notebook: how A moved while the model trained."""
import matplotlib.pyplot as plt


def plot_trajectory(history, optimum, title, ideal=None):
    """A after every step, with the exact optimum for the data (and the ideal value, if given) marked."""
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.plot(range(1, len(history) + 1), history, label="A after each step")
    ax.axhline(optimum, color="tab:red", linestyle="--", label=f"optimum for this data, A* = {optimum:.3f}")
    if ideal is not None:
        ax.axhline(ideal, color="tab:gray", linestyle=":", label=f"ideal A = {ideal:g}")
    ax.set(xlabel="step", ylabel="A", title=title)
    ax.legend(loc="best")
    plt.show()
