// The language model's forward and backward passes, side by side, in the manner of llm.c's train_gpt2.c:
// each stage's forward, then (in reverse order) its backward, with the shapes in the comments. Templated on
// the scalar: float to train, double for the gradient checks against finite differences.
#include "attnviz/lm.hpp"

#include <cmath>
#include <random>

#include <fmt/format.h>

#include "attnviz/error.hpp"
#include "attnviz/limits.hpp"
#include "../backends/vexp.hpp"

namespace attnviz {

std::string mixing_name(Mixing m) {
  switch (m) {
    case Mixing::attention: return "attention";
    case Mixing::uniform: return "uniform";
    case Mixing::current: return "current-word";
  }
  return "?";
}

Mixing parse_mixing(const std::string& name) {
  for (Mixing m : {Mixing::attention, Mixing::uniform, Mixing::current})
    if (mixing_name(m) == name) return m;
  throw InputError(fmt::format("unknown mixing '{}'; use attention, uniform or current-word", name));
}

void check_config(const LmConfig& c) {
  auto need = [](bool ok, const std::string& what) {
    if (!ok) throw InputError(what);
  };
  need(c.vocab >= 2, "the vocabulary needs at least one word besides <unk>");
  need(c.d_model >= 1, "the embeddings need a positive width");
  need(c.layers >= 0 && c.layers <= 16, fmt::format("--layers {} is out of range (0 to 16)", c.layers));
  need(c.heads >= 1 && c.heads <= 64, fmt::format("--heads {} is out of range (1 to 64)", c.heads));
  need(c.d_k >= 1 && c.d_k <= 1024, fmt::format("--d-k {} is out of range (1 to 1024)", c.d_k));
  need(c.mlp >= 0 && c.mlp <= 4096, fmt::format("--mlp {} is out of range (0 to 4096)", c.mlp));
  need(c.max_len >= 2 && c.max_len <= 1024, fmt::format("--max-len {} is out of range (2 to 1024)", c.max_len));
}

LmLayout::LmLayout(const LmConfig& c) {
  const int C = c.d_model, HD = c.heads * c.d_k, F = c.mlp;
  auto add = [&](const char* name, int layer, int rows, int cols, bool decay) {
    LmTensor t{name, layer, rows, cols, size, decay};
    size += t.size();
    tensors.push_back(t);
  };
  add("positions", -1, c.max_len, C, false);
  const bool learned = c.mixing == Mixing::attention;
  for (int l = 0; l < c.layers; ++l) {
    add("ln1_gain", l, 1, C, false);
    add("ln1_bias", l, 1, C, false);
    add("W_q", l, learned ? C : 0, HD, true);
    add("b_q", l, learned ? 1 : 0, HD, false);
    add("W_k", l, learned ? C : 0, HD, true);
    add("b_k", l, learned ? 1 : 0, HD, false);
    add("W_v", l, C, HD, true);
    add("b_v", l, 1, HD, false);
    add("W_o", l, HD, C, true);
    add("b_o", l, 1, C, false);
    add("ln2_gain", l, F ? 1 : 0, C, false);
    add("ln2_bias", l, F ? 1 : 0, C, false);
    add("W_1", l, F ? C : 0, F, true);
    add("b_1", l, F ? 1 : 0, F, false);
    add("W_2", l, F, C, true);
    add("b_2", l, F ? 1 : 0, C, false);
  }
  add("ln_f_gain", -1, 1, C, false);
  add("ln_f_bias", -1, 1, C, false);
  add("output_bias", -1, 1, c.vocab, false);
}

namespace {

template <typename S>
using Map = Eigen::Map<RowMat<S>>;
template <typename S>
using CMap = Eigen::Map<const RowMat<S>>;

template <typename S>
CMap<S> view(const S* base, const LmTensor& t) {
  return CMap<S>(base + t.offset, t.rows, t.cols);
}
template <typename S>
Map<S> view(S* base, const LmTensor& t) {
  return Map<S>(base + t.offset, t.rows, t.cols);
}

constexpr double kLnEps = 1e-5;

// ---- layer norm: y = (x − mean) / √(var + ε) ∘ gain + bias, per row ----
template <typename S>
void layernorm_forward(const RowMat<S>& x, const CMap<S>& gain, const CMap<S>& bias, RowMat<S>& y, RowMat<S>& xhat, std::vector<S>& rstd) {
  // x: T × C; xhat, y: T × C; rstd: T
  const auto T = x.rows();
  const auto C = static_cast<S>(x.cols());
  xhat.resize(T, x.cols());
  y.resize(T, x.cols());
  rstd.resize(static_cast<std::size_t>(T));
  for (Eigen::Index t = 0; t < T; ++t) {
    const S mean = x.row(t).sum() / C;
    const S var = (x.row(t).array() - mean).square().sum() / C;
    const S r = S(1) / std::sqrt(var + static_cast<S>(kLnEps));
    rstd[static_cast<std::size_t>(t)] = r;
    xhat.row(t) = (x.row(t).array() - mean) * r;
    y.row(t) = xhat.row(t).cwiseProduct(gain.row(0)) + bias.row(0);
  }
}

template <typename S>
void layernorm_backward(const RowMat<S>& dy, const RowMat<S>& xhat, const std::vector<S>& rstd, const CMap<S>& gain, RowMat<S>& dx,
                        S* dgain, S* dbias) {
  // dy, xhat: T × C → dx (+=): T × C; dgain, dbias (+=): C
  const auto C = xhat.cols();
  for (Eigen::Index t = 0; t < dy.rows(); ++t) {
    const auto dxhat = (dy.row(t).cwiseProduct(gain.row(0))).eval();
    const S mean_d = dxhat.sum() / static_cast<S>(C);
    const S mean_dx = dxhat.cwiseProduct(xhat.row(t)).sum() / static_cast<S>(C);
    dx.row(t).array() += rstd[static_cast<std::size_t>(t)] * (dxhat.array() - mean_d - xhat.row(t).array() * mean_dx);
    if (dgain) {
      Map<S>(dgain, 1, C) += dy.row(t).cwiseProduct(xhat.row(t));
      Map<S>(dbias, 1, C) += dy.row(t);
    }
  }
}

// ---- GELU, the tanh form of GPT-2 ----
template <typename S>
S gelu(S x) {
  const S k = static_cast<S>(0.7978845608028654);  // √(2/π)
  return S(0.5) * x * (S(1) + std::tanh(k * (x + S(0.044715) * x * x * x)));
}
template <typename S>
S gelu_grad(S x) {
  const S k = static_cast<S>(0.7978845608028654);
  const S u = k * (x + S(0.044715) * x * x * x);
  const S th = std::tanh(u);
  return S(0.5) * (S(1) + th) + S(0.5) * x * (S(1) - th * th) * k * (S(1) + S(3) * S(0.044715) * x * x);
}

template <typename S>
struct LayerActs {
  RowMat<S> x_in;                 // T × C   the layer's input (the residual stream)
  RowMat<S> a, xhat1;             // T × C   LN₁(x_in)
  std::vector<S> rstd1;           // T
  RowMat<S> q, k, v;              // T × HD
  std::vector<RowMat<S>> att;     // H × (T × T)
  RowMat<S> y;                    // T × HD  the heads' outputs, side by side
  RowMat<S> x_mid;                // T × C   x_in + y W_o + b_o
  RowMat<S> bn, xhat2;            // T × C   LN₂(x_mid)
  std::vector<S> rstd2;           // T
  RowMat<S> hpre, hact;           // T × F   before and after GELU
  RowMat<S> mlp_out;              // T × C   hact W₂ + b₂
};

template <typename S>
struct SentenceActs {
  std::vector<LayerActs<S>> layers;
  RowMat<S> x_out;                // T × C   the last layer's output
  RowMat<S> f, xhatf;             // T × C   LN_f(x_out)
  std::vector<S> rstdf;           // T
};

template <typename S>
void forward_sentence(const LmConfig& c, const LmLayout& lay, const S* p, const RowMat<S>& E, const std::vector<int>& ids, SentenceActs<S>& s) {
  const auto T = static_cast<Eigen::Index>(ids.size());
  const int H = c.heads, D = c.d_k;
  s.layers.resize(static_cast<std::size_t>(c.layers));
  // x⁰ = E[ids] + P[0..T)                                    T × C
  RowMat<S> x(T, c.d_model);
  const auto P = view(p, lay.positions());
  for (Eigen::Index t = 0; t < T; ++t) x.row(t) = E.row(ids[static_cast<std::size_t>(t)]) + P.row(t);
  const S inv_sqrt_d = S(1) / std::sqrt(static_cast<S>(D));
  for (int l = 0; l < c.layers; ++l) {
    LayerActs<S>& A = s.layers[static_cast<std::size_t>(l)];
    auto W = [&](LmLayout::Id id) { return view(p, lay.layer(l, id)); };
    A.x_in = x;
    layernorm_forward(A.x_in, W(LmLayout::ln1_gain), W(LmLayout::ln1_bias), A.a, A.xhat1, A.rstd1);
    // v = a W_v + b_v (and q, k for learned attention)           T × HD
    A.v = A.a * W(LmLayout::W_v);
    A.v.rowwise() += W(LmLayout::b_v).row(0);
    if (c.mixing == Mixing::attention) {
      A.q = A.a * W(LmLayout::W_q);
      A.q.rowwise() += W(LmLayout::b_q).row(0);
      A.k = A.a * W(LmLayout::W_k);
      A.k.rowwise() += W(LmLayout::b_k).row(0);
    }
    A.att.resize(static_cast<std::size_t>(H));
    A.y.resize(T, H * D);
    for (int h = 0; h < H; ++h) {
      RowMat<S>& att = A.att[static_cast<std::size_t>(h)];  // T × T, zero above the diagonal
      att.setZero(T, T);
      if (c.mixing == Mixing::attention) {
        // s = q_h k_hᵀ / √D, softmax over j ≤ i
        const RowMat<S> sc = (A.q.middleCols(h * D, D) * A.k.middleCols(h * D, D).transpose()) * inv_sqrt_d;
        for (Eigen::Index i = 0; i < T; ++i) {
          const S m = sc.row(i).head(i + 1).maxCoeff();
          S sum = 0;
          for (Eigen::Index j = 0; j <= i; ++j) sum += att(i, j) = std::exp(sc(i, j) - m);
          att.row(i).head(i + 1) /= sum;
        }
      } else if (c.mixing == Mixing::uniform) {
        for (Eigen::Index i = 0; i < T; ++i) att.row(i).head(i + 1).setConstant(S(1) / static_cast<S>(i + 1));
      } else {
        att.setIdentity();
      }
      // y_h = A_h v_h                                           T × D
      A.y.middleCols(h * D, D) = att * A.v.middleCols(h * D, D);
    }
    // x = x + y W_o + b_o                                       T × C
    A.x_mid = A.x_in + A.y * W(LmLayout::W_o);
    A.x_mid.rowwise() += W(LmLayout::b_o).row(0);
    x = A.x_mid;
    if (c.mlp > 0) {
      // x = x + GELU(LN₂(x) W₁ + b₁) W₂ + b₂                   T × F, then T × C
      layernorm_forward(A.x_mid, W(LmLayout::ln2_gain), W(LmLayout::ln2_bias), A.bn, A.xhat2, A.rstd2);
      A.hpre = A.bn * W(LmLayout::W_1);
      A.hpre.rowwise() += W(LmLayout::b_1).row(0);
      A.hact = A.hpre.unaryExpr([](S z) { return gelu(z); });
      A.mlp_out = A.hact * W(LmLayout::W_2);
      A.mlp_out.rowwise() += W(LmLayout::b_2).row(0);
      x += A.mlp_out;
    }
  }
  s.x_out = std::move(x);
  layernorm_forward(s.x_out, view(p, lay.lnf_gain()), view(p, lay.lnf_bias()), s.f, s.xhatf, s.rstdf);
}

template <typename S>
void backward_sentence(const LmConfig& c, const LmLayout& lay, const S* p, const std::vector<int>& ids, const SentenceActs<S>& s,
                       const RowMat<S>& df, S* g) {
  const auto T = static_cast<Eigen::Index>(ids.size());
  const int H = c.heads, D = c.d_k;
  const S inv_sqrt_d = S(1) / std::sqrt(static_cast<S>(D));
  // LN_f backward: df (T × C) → dx (T × C)
  RowMat<S> dx = RowMat<S>::Zero(T, c.d_model);
  layernorm_backward(df, s.xhatf, s.rstdf, view(p, lay.lnf_gain()), dx, g + lay.lnf_gain().offset, g + lay.lnf_bias().offset);
  for (int l = c.layers - 1; l >= 0; --l) {
    const LayerActs<S>& A = s.layers[static_cast<std::size_t>(l)];
    auto W = [&](LmLayout::Id id) { return view(p, lay.layer(l, id)); };
    auto G = [&](LmLayout::Id id) { return view(g, lay.layer(l, id)); };
    if (c.mlp > 0) {
      // x_out = x_mid + hact W₂ + b₂: dx flows to x_mid unchanged (the residual) and through the MLP
      G(LmLayout::W_2).noalias() += A.hact.transpose() * dx;                  // F × C
      G(LmLayout::b_2) += dx.colwise().sum();
      RowMat<S> dh = dx * W(LmLayout::W_2).transpose();                       // T × F
      dh.array() *= A.hpre.unaryExpr([](S z) { return gelu_grad(z); }).array();
      G(LmLayout::W_1).noalias() += A.bn.transpose() * dh;                    // C × F
      G(LmLayout::b_1) += dh.colwise().sum();
      const RowMat<S> dbn = dh * W(LmLayout::W_1).transpose();                // T × C
      layernorm_backward(dbn, A.xhat2, A.rstd2, W(LmLayout::ln2_gain), dx, g + lay.layer(l, LmLayout::ln2_gain).offset,
                         g + lay.layer(l, LmLayout::ln2_bias).offset);
    }
    // x_mid = x_in + y W_o + b_o
    G(LmLayout::W_o).noalias() += A.y.transpose() * dx;                       // HD × C
    G(LmLayout::b_o) += dx.colwise().sum();
    const RowMat<S> dy = dx * W(LmLayout::W_o).transpose();                   // T × HD
    RowMat<S> dq(T, H * D), dk(T, H * D), dv(T, H * D);
    for (int h = 0; h < H; ++h) {
      const RowMat<S>& att = A.att[static_cast<std::size_t>(h)];
      const auto dy_h = dy.middleCols(h * D, D);
      // y_h = A_h v_h: dv_h = A_hᵀ dy_h, dA_h = dy_h v_hᵀ
      dv.middleCols(h * D, D) = att.transpose() * dy_h;
      if (c.mixing != Mixing::attention) continue;  // fixed weights: nothing upstream of A
      const RowMat<S> datt = dy_h * A.v.middleCols(h * D, D).transpose();      // T × T
      // softmax backward, row by row over j ≤ i: ds_ij = A_ij (dA_ij − Σ_k A_ik dA_ik), then the 1/√D
      RowMat<S> ds = RowMat<S>::Zero(T, T);
      for (Eigen::Index i = 0; i < T; ++i) {
        const S dot = att.row(i).head(i + 1).dot(datt.row(i).head(i + 1));
        ds.row(i).head(i + 1) = att.row(i).head(i + 1).cwiseProduct((datt.row(i).head(i + 1).array() - dot).matrix()) * inv_sqrt_d;
      }
      // s = q_h k_hᵀ: dq_h = ds k_h, dk_h = dsᵀ q_h
      dq.middleCols(h * D, D) = ds * A.k.middleCols(h * D, D);
      dk.middleCols(h * D, D) = ds.transpose() * A.q.middleCols(h * D, D);
    }
    // q, k, v = a W + b: the weights' gradients, and da = Σ dq W_qᵀ + …            T × C
    G(LmLayout::W_v).noalias() += A.a.transpose() * dv;
    G(LmLayout::b_v) += dv.colwise().sum();
    RowMat<S> da = dv * W(LmLayout::W_v).transpose();
    if (c.mixing == Mixing::attention) {
      G(LmLayout::W_q).noalias() += A.a.transpose() * dq;
      G(LmLayout::b_q) += dq.colwise().sum();
      G(LmLayout::W_k).noalias() += A.a.transpose() * dk;
      G(LmLayout::b_k) += dk.colwise().sum();
      da.noalias() += dq * W(LmLayout::W_q).transpose();
      da.noalias() += dk * W(LmLayout::W_k).transpose();
    }
    // a = LN₁(x_in); x_in also flows straight to x_mid (the residual): dx stays and LN₁ adds to it
    layernorm_backward(da, A.xhat1, A.rstd1, W(LmLayout::ln1_gain), dx, g + lay.layer(l, LmLayout::ln1_gain).offset,
                       g + lay.layer(l, LmLayout::ln1_bias).offset);
  }
  // x⁰ = E[ids] + P: E is frozen, P gets dx
  view(g, lay.positions()).topRows(T) += dx;
}

// Softmax of each row in place, in float with the vectorised exp, in double with std::exp.
template <typename S>
void softmax_rows(RowMat<S>& z) {
  for (Eigen::Index r = 0; r < z.rows(); ++r) {
    z.row(r).array() -= z.row(r).maxCoeff();
    if constexpr (std::is_same_v<S, float>) {
      exp_inplace(z.row(r).data(), static_cast<std::size_t>(z.cols()));
    } else {
      z.row(r) = z.row(r).array().exp().matrix();
    }
    z.row(r) /= z.row(r).sum();
  }
}

}  // namespace

template <typename S>
LmLoss lm_forward_backward(const LmConfig& c, const S* p, const RowMat<S>& E, const std::vector<std::vector<int>>& sentences, S* g, S scale) {
  if (E.rows() != c.vocab || E.cols() != c.d_model)
    throw InputError(fmt::format("the embeddings are {} × {}, the model expects {} × {}", E.rows(), E.cols(), c.vocab, c.d_model));
  const LmLayout lay(c);
  LmLoss loss;
  std::vector<SentenceActs<S>> acts(sentences.size());
  // Forward every sentence; gather the rows that predict a next token into one matrix for the logits.
  Eigen::Index rows = 0;
  for (std::size_t i = 0; i < sentences.size(); ++i) {
    const auto& ids = sentences[i];
    if (ids.empty()) continue;
    if (static_cast<int>(ids.size()) > c.max_len)
      throw InputError(fmt::format("a sentence of {} tokens is longer than the model's {} positions", ids.size(), c.max_len));
    for (int id : ids)
      if (id < 0 || id >= c.vocab) throw InputError(fmt::format("token id {} is outside the vocabulary of {}", id, c.vocab));
    forward_sentence(c, lay, p, E, ids, acts[i]);
    rows += static_cast<Eigen::Index>(ids.size()) - 1;
  }
  if (rows == 0) return loss;
  RowMat<S> f(rows, c.d_model);  // N × C
  std::vector<int> targets;
  targets.reserve(static_cast<std::size_t>(rows));
  for (std::size_t i = 0, r = 0; i < sentences.size(); ++i) {
    const auto n = static_cast<Eigen::Index>(sentences[i].size()) - 1;
    if (n <= 0) continue;
    f.middleRows(static_cast<Eigen::Index>(r), n) = acts[i].f.topRows(n);
    targets.insert(targets.end(), sentences[i].begin() + 1, sentences[i].end());
    r += static_cast<std::size_t>(n);
  }
  // logits = f Eᵀ + b_out                                        N × V
  RowMat<S> probs = f * E.transpose();
  probs.rowwise() += view(p, lay.out_bias()).row(0);
  softmax_rows(probs);
  for (Eigen::Index r = 0; r < rows; ++r) loss.nll -= std::log(static_cast<double>(probs(r, targets[static_cast<std::size_t>(r)])));
  loss.tokens = static_cast<std::size_t>(rows);
  if (!g) return loss;
  // dlogits = scale · (softmax − onehot)                         N × V
  for (Eigen::Index r = 0; r < rows; ++r) probs(r, targets[static_cast<std::size_t>(r)]) -= S(1);
  probs *= scale;
  view(g, lay.out_bias()) += probs.colwise().sum();
  const RowMat<S> df_all = probs * E;                             // N × C (E frozen: no dE)
  for (std::size_t i = 0, r = 0; i < sentences.size(); ++i) {
    const auto T = static_cast<Eigen::Index>(sentences[i].size());
    if (T < 2) continue;
    RowMat<S> df = RowMat<S>::Zero(T, c.d_model);  // the last token predicts nothing
    df.topRows(T - 1) = df_all.middleRows(static_cast<Eigen::Index>(r), T - 1);
    backward_sentence(c, lay, p, sentences[i], acts[i], df, g);
    r += static_cast<std::size_t>(T - 1);
  }
  return loss;
}

double lm_forward_bytes(const LmConfig& c, double T) {
  const double C = c.d_model, HD = static_cast<double>(c.heads) * c.d_k, F = c.mlp;
  // Per layer: seven T × C (x_in, a, xhat1, x_mid, bn, xhat2, mlp_out), four T × HD (q, k, v, y), two
  // T × F, H attention matrices T × T; then three T × C (x_out, f, xhatf) and the T × V logits.
  const double per_layer = 7 * T * C + 4 * T * HD + 2 * T * F + c.heads * T * T;
  return sizeof(float) * (c.layers * per_layer + 3 * T * C + T * c.vocab);
}

void check_lm_forward_memory(const LmConfig& c, double T, double copies, const std::string& why) {
  check_memory(copies * lm_forward_bytes(c, T),
               fmt::format("the trained model's forward pass over {} tokens ({} layer{} of {} head{}, d_model {}, {} words){}", T, c.layers,
                           c.layers == 1 ? "" : "s", c.heads, c.heads == 1 ? "" : "s", c.d_model, c.vocab, why),
               "use a shorter sentence or fewer --threads, or raise --max-memory");
}

namespace {

// The forward pass of one sentence for inference (predict, run): ids checked, then forward_sentence.
SentenceActs<float> forward_one(const LmConfig& c, const LmLayout& lay, const std::vector<float>& params, const RowMat<float>& E,
                                const std::vector<int>& ids) {
  if (ids.empty() || static_cast<int>(ids.size()) > c.max_len)
    throw InputError(fmt::format("a sentence of {} tokens: the model reads 1 to {}", ids.size(), c.max_len));
  for (int id : ids)
    if (id < 0 || id >= c.vocab) throw InputError(fmt::format("token id {} is outside the vocabulary of {}", id, c.vocab));
  if (E.rows() != c.vocab || E.cols() != c.d_model)
    throw InputError(fmt::format("the embeddings are {} × {}, the model expects {} × {}", E.rows(), E.cols(), c.vocab, c.d_model));
  check_lm_forward_memory(c, static_cast<double>(ids.size()), 1);
  SentenceActs<float> acts;
  forward_sentence(c, lay, params.data(), E, ids, acts);
  return acts;
}

}  // namespace

LmActivations lm_activations(const LmConfig& c, const std::vector<float>& params, const RowMat<float>& E, const std::vector<int>& ids) {
  const LmLayout lay(c);
  SentenceActs<float> acts = forward_one(c, lay, params, E, ids);
  LmActivations out;
  out.x0 = acts.layers.empty() ? acts.x_out : acts.layers[0].x_in;  // x⁰ = E[tokens] + P: the first layer's input
  for (std::size_t l = 0; l < acts.layers.size(); ++l) {
    LayerActs<float>& A = acts.layers[l];
    LmLayerActivations L;
    L.x_in = std::move(A.x_in);
    L.a = std::move(A.a);
    L.q = std::move(A.q);
    L.k = std::move(A.k);
    L.v = std::move(A.v);
    L.attention = std::move(A.att);
    L.x_mid = std::move(A.x_mid);
    L.mlp_out = std::move(A.mlp_out);
    // The layer's output is the next layer's input (or, after the last, what LN_f reads).
    L.x_out = l + 1 < acts.layers.size() ? acts.layers[l + 1].x_in : acts.x_out;
    out.layers.push_back(std::move(L));
  }
  // logits = f Eᵀ + b_out                                       T × V
  out.logits = acts.f * E.transpose();
  out.logits.rowwise() += view(params.data(), lay.out_bias()).row(0);
  out.f = std::move(acts.f);
  return out;
}

LmPrediction lm_predict(const LmConfig& c, const std::vector<float>& params, const RowMat<float>& E, const std::vector<int>& ids) {
  const LmLayout lay(c);
  SentenceActs<float> acts = forward_one(c, lay, params, E, ids);
  LmPrediction out;
  // logits = f_{T−1} Eᵀ + b_out                                   1 × V
  out.logits = acts.f.row(acts.f.rows() - 1) * E.transpose() + view(params.data(), lay.out_bias()).row(0);
  for (auto& layer : acts.layers) out.attention.push_back(std::move(layer.att));
  return out;
}

std::vector<std::vector<RowMat<float>>> lm_attention(const LmConfig& c, const std::vector<float>& params, const RowMat<float>& E,
                                                     const std::vector<int>& ids) {
  return lm_predict(c, params, E, ids).attention;
}

template LmLoss lm_forward_backward<float>(const LmConfig&, const float*, const RowMat<float>&, const std::vector<std::vector<int>>&, float*,
                                           float);
template LmLoss lm_forward_backward<double>(const LmConfig&, const double*, const RowMat<double>&, const std::vector<std::vector<int>>&,
                                            double*, double);

void lm_init(const LmConfig& c, std::vector<float>& params, std::uint64_t seed, const std::vector<float>& out_bias) {
  const LmLayout lay(c);
  params.assign(lay.size, 0.0f);
  std::mt19937_64 rng(seed);
  // Box–Muller from the 64-bit generator: the same numbers on every standard library (std::normal_distribution is not).
  auto normal = [&rng]() {
    const double u1 = (static_cast<double>(rng() >> 11) + 0.5) * 0x1.0p-53;
    const double u2 = static_cast<double>(rng() >> 11) * 0x1.0p-53;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  };
  const double residual_scale = 1.0 / std::sqrt(2.0 * std::max(1, c.layers));
  for (const LmTensor& t : lay.tensors) {
    float* w = params.data() + t.offset;
    const bool gain = t.name.find("gain") != std::string::npos;
    const bool matrix = t.decay || t.name == "positions";
    const double sd = (t.name == "W_o" || t.name == "W_2") ? 0.02 * residual_scale : 0.02;
    // LN_f's gain starts at 0.1: with gain 1 the tied logits f Eᵀ of unit-variance f and GloVe rows (about
    // 0.4 an element) would spread about ±4 and drown the unigram output bias the model starts from.
    const float gain_init = t.name == "ln_f_gain" ? 0.1f : 1.0f;
    for (std::size_t i = 0; i < t.size(); ++i) w[i] = gain ? gain_init : matrix ? static_cast<float>(sd * normal()) : 0.0f;
  }
  if (!out_bias.empty()) std::copy(out_bias.begin(), out_bias.end(), params.begin() + static_cast<std::ptrdiff_t>(lay.out_bias().offset));
}

}  // namespace attnviz
