// The owner-direct halo exchange (src/halo/) on its own, no LAMMPS: a plan from known owners, its
// forward (ghost rows = owner rows) and reverse (ghost rows summed into owners, then zeroed), on 1
// rank (periodic self images only) and, under mpiexec, on several (every rank holds images of every
// rank's rows, row 0 twice). Values are small integers, so every sum is exact in any order.
#include <gtest/gtest.h>
#include <mpi.h>

#include "halo/mpi_exchange.h"
#ifdef UMA_HAVE_NCCL
#include "halo/nccl_exchange.h"
#endif
#include "model/errors.h"

namespace {

int rank_of() { int r; MPI_Comm_rank(MPI_COMM_WORLD, &r); return r; }
int size_of() { int n; MPI_Comm_size(MPI_COMM_WORLD, &n); return n; }
int64_t owned_on(int r) { return 2 + r; }  // ranks own different numbers of rows

// Ghosts of this rank: every row of every rank (itself too), and row 0 of each once more.
struct Ghosts {
  std::vector<int> rank;
  std::vector<int64_t> row;
};
Ghosts all_images() {
  Ghosts g;
  for (int q = 0; q < size_of(); q++) {
    for (int64_t k = 0; k < owned_on(q); k++) g.rank.push_back(q), g.row.push_back(k);
    g.rank.push_back(q), g.row.push_back(0);
  }
  return g;
}

TEST(ExchangePlan, ForwardCopiesOwnersAndReverseSumsImagesExactly) {
  const int me = rank_of(), P = size_of();
  const int64_t n_owned = owned_on(me);
  const Ghosts g = all_images();
  const int64_t n = n_owned + static_cast<int64_t>(g.rank.size());
  uma::MpiExchange ex(MPI_COMM_WORLD);
  ex.set_plan(uma::make_exchange_plan(MPI_COMM_WORLD, n, n_owned, g.rank, g.row));
  EXPECT_EQ(ex.plan().self_dst.size(), static_cast<size_t>(owned_on(me) + 1));
  EXPECT_EQ(ex.plan().peers.size(), static_cast<size_t>(P - 1));
  const int64_t K = 5;
  for (auto dtype : {torch::kFloat64, torch::kFloat32}) {
    // forward: owned row k of rank r holds 100 r + 10 k + column; ghosts start at -1
    auto x = torch::full({n, K}, -1.0, dtype);
    for (int64_t k = 0; k < n_owned; k++)
      for (int64_t c = 0; c < K; c++) x[k][c] = 100.0 * me + 10.0 * k + c;
    ex.forward(x);
    for (size_t i = 0; i < g.rank.size(); i++)
      for (int64_t c = 0; c < K; c++)
        ASSERT_EQ(x[n_owned + i][c].item<double>(), 100.0 * g.rank[i] + 10.0 * g.row[i] + c)
            << "ghost row " << n_owned + i << " on rank " << me;
    // reverse: owned rows 1000, ghost rows 1; every rank holds row k of every rank once (row 0 twice)
    auto y = torch::ones({n, K}, dtype);
    y.narrow(0, 0, n_owned).fill_(1000.0);
    ex.reverse(y);
    for (int64_t k = 0; k < n_owned; k++)
      EXPECT_EQ(y[k][0].item<double>(), 1000.0 + P * (k == 0 ? 2 : 1)) << "owned row " << k << " on rank " << me;
    EXPECT_EQ(y.narrow(0, n_owned, n - n_owned).abs().sum().item<double>(), 0.0) << "ghost rows are zeroed";
  }
}

TEST(ExchangePlan, RowThatTheOwnerDoesNotHaveIsAnError) {
  if (size_of() > 1) GTEST_SKIP() << "one rank: the error is thrown where the bad row is found";
  EXPECT_THROW(uma::make_exchange_plan(MPI_COMM_WORLD, 3, 2, {0}, {2}), uma::Error);
  EXPECT_THROW(uma::make_exchange_plan(MPI_COMM_WORLD, 3, 2, {1}, {0}), uma::Error);  // rank 1 of 1
  EXPECT_THROW(uma::make_exchange_plan(MPI_COMM_WORLD, 3, 2, {0, 0}, {0, 0}), uma::Error);
}

TEST(ExchangePlan, WrongRowCountIsAnError) {
  uma::MpiExchange ex(MPI_COMM_WORLD);
  ex.set_plan(uma::make_exchange_plan(MPI_COMM_WORLD, 2, 2, {}, {}));
  auto x = torch::zeros({3, 4}, torch::kFloat64);
  EXPECT_THROW(ex.forward(x), uma::Error);
}

TEST(ExchangePlan, NcclTransport) {
#ifdef UMA_HAVE_NCCL
  if (!torch::cuda::is_available() || static_cast<int>(torch::cuda::device_count()) < size_of())
    GTEST_SKIP() << "NCCL needs one GPU per rank (compiled and linked here)";
  const int me = rank_of();
  const Ghosts g = all_images();
  const int64_t n_owned = owned_on(me), n = n_owned + static_cast<int64_t>(g.rank.size());
  uma::NcclExchange ex(MPI_COMM_WORLD, torch::Device(torch::kCUDA, me));
  ex.set_plan(uma::make_exchange_plan(MPI_COMM_WORLD, n, n_owned, g.rank, g.row));
  auto x = torch::full({n, 3}, -1.0, torch::dtype(torch::kFloat64).device(torch::kCUDA, me));
  x.narrow(0, 0, n_owned).fill_(static_cast<double>(me));
  ex.forward(x);
  auto h = x.cpu();
  for (size_t i = 0; i < g.rank.size(); i++) EXPECT_EQ(h[n_owned + i][0].item<double>(), g.rank[i]);
#else
  GTEST_SKIP() << "built without NCCL (UMA_ENABLE_NCCL needs UMA_ENABLE_CUDA and nccl.h)";
#endif
}

}  // namespace

int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  ::testing::InitGoogleTest(&argc, argv);
  const int failed = RUN_ALL_TESTS();
  int any = 0;
  MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  MPI_Finalize();
  return any;
}
