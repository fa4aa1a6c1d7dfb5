"""Drug knowledge: RxNorm client, offline terminology, interaction graph and the pure check."""
