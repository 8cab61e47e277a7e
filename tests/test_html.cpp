// The HTML report (include/attnviz/html.hpp): structure, escaping, the hover arithmetic, and --html through
// the real executable (whole or nothing). The page in a real browser: tests/test_html_in_browser.py.
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <limits>
#include <string>

#include <fmt/format.h>

#include "attnviz/embeddings.hpp"
#include "attnviz/error.hpp"
#include "attnviz/html.hpp"
#include "attnviz/model.hpp"
#include "attnviz/pipeline.hpp"
#include "support.hpp"

using namespace attnviz;
using attnviz::test::run_attnviz;
using attnviz::test::TempDir;
using Catch::Contains;
namespace fs = std::filesystem;

namespace {

std::size_t count(const std::string& text, const std::string& piece) {
  std::size_t n = 0;
  for (auto at = text.find(piece); at != std::string::npos; at = text.find(piece, at + piece.size())) ++n;
  return n;
}

// Three words over four dimensions whose labels are markup, quotes and an ampersand.
const std::string kHostileEmbeddings = R"({
  "format": "attnviz-embeddings", "version": 1, "name": "<i>toy</i> \"name\"", "dim": 4,
  "dimension_labels": ["<b>bold</b>", "\"quoted\"", "it's & co", "<script>document.title='pwned'</script>"],
  "vectors": { "cat": [1, 0, 0.5, 0], "sat": [0, -1, 0, 0.5], "mat": [0.5, 0.5, 1, 0] }
})";

Trace hostile_trace(const std::string& sentence, const PipelineOptions& options = {}) {
  const Embeddings emb = parse_embeddings(kHostileEmbeddings, "hostile.json");
  return run_attention(emb, identity_model(emb.dim, 2), sentence, options);
}

}  // namespace

TEST_CASE("HTML: escape_html escapes & < > \" ' and makes control characters and bad UTF-8 safe", "[html]") {
  CHECK(escape_html(R"(<script>alert("x") & 'y'</script>)") ==
        "&lt;script&gt;alert(&quot;x&quot;) &amp; &#39;y&#39;&lt;/script&gt;");
  CHECK(escape_html("plain text, é and 漢字") == "plain text, é and 漢字");
  CHECK(escape_html("a\nb\x1b[31mc") == "a?b?[31mc");
  CHECK(escape_html("bad \xff\xfe and cut \xc3") == "bad ?? and cut ?");
  CHECK(escape_html("surrogate \xed\xa0\x80 overlong \xe0\x80\xaf") == "surrogate ??? overlong ???");
  CHECK(escape_html("&amp;") == "&amp;amp;");  // escaped once more, so it shows as typed
}

TEST_CASE("HTML: one heatmap table per stage, n × m cells, labelled axes and a legend", "[html]") {
  PipelineOptions causal;
  causal.attention.causal = true;
  const Trace trace = hostile_trace("cat sat mat cat", causal);
  REQUIRE(trace.config.heads == 2);
  const std::string page = render_html(trace, HtmlOptions{});

  CHECK(page.starts_with("<!DOCTYPE html>"));
  CHECK(count(page, "<table class=\"heatmap\">") == trace.stages.size());
  CHECK(count(page, "<details class=\"stage\"") == trace.stages.size());
  CHECK(count(page, "<div class=\"legend\">") == trace.stages.size());
  std::size_t cells = 0;
  for (const auto& s : trace.stages) cells += static_cast<std::size_t>(s.data.size());
  CHECK(count(page, "<td ") == cells);
  CHECK_THAT(page, Contains("<caption>rows: queries · columns: keys</caption>"));
  CHECK_THAT(page, Contains("<caption>rows: tokens · columns: dimensions</caption>"));
  CHECK_THAT(page, Contains("weights P · head 2 of 2 · 4 × 4"));
  CHECK_THAT(page, Contains("viridis"));
  CHECK_THAT(page, Contains("blue–white–red, centred at 0"));
  // The causal mask: 6 masked cells per head in S', grey, and the legend says what grey means.
  CHECK(count(page, "<td class=\"w\" style=\"background:#303030\"") == 2 * 6);
  CHECK_THAT(page, Contains("−∞ = masked"));
  // The configuration and the tokens.
  CHECK_THAT(page, Contains("<dt>mask</dt><dd>causal"));
  CHECK_THAT(page, Contains("<ol class=\"tokens\" start=\"0\"><li><span class=\"index\">0</span>cat</li>"));
}

TEST_CASE("HTML: the colours are the terminal's maps, chosen by the same rule", "[html]") {
  Stage weights;
  weights.name = "weights";
  weights.symbol = "P";
  weights.row_axis = "queries";
  weights.col_axis = "keys";
  weights.row_labels = {"a"};
  weights.col_labels = {"a", "b"};
  weights.data.resize(1, 2);
  weights.data << 0.25f, 0.75f;
  Trace trace;
  trace.sentence = "a b";
  trace.tokens = {"a", "b"};
  trace.stages.push_back(weights);
  auto hex = [](Rgb c) { return fmt::format("#{:02x}{:02x}{:02x}", c.r, c.g, c.b); };

  const std::string standard = render_html(trace, HtmlOptions{});
  CHECK_THAT(standard, Contains("style=\"background:" + hex(colormap_color(ColorMap::viridis, 0.25f)) + "\""));
  CHECK_THAT(standard, Contains("style=\"background:" + hex(colormap_color(ColorMap::viridis, 0.75f)) + "\""));
  HtmlOptions colorblind;
  colorblind.palette = Palette::colorblind;
  const std::string cividis = render_html(trace, colorblind);
  CHECK_THAT(cividis, Contains("style=\"background:" + hex(colormap_color(ColorMap::cividis, 0.75f)) + "\""));
  CHECK_THAT(cividis, Contains("cividis"));
  // Text colour by background luminance: white on viridis's dark end, black on its light end.
  weights.data << 0.0f, 1.0f;
  trace.stages[0] = weights;
  const std::string ends = render_html(trace, HtmlOptions{});
  CHECK_THAT(ends, Contains("<td class=\"w\" style=\"background:" + hex(colormap_color(ColorMap::viridis, 0.0f)) + "\""));
  CHECK_THAT(ends, Contains("<td style=\"background:" + hex(colormap_color(ColorMap::viridis, 1.0f)) + "\""));
}

TEST_CASE("HTML: a weight's hover text shows its softmax arithmetic from S'", "[html]") {
  const Trace trace = hostile_trace("cat sat mat");
  const Stage* scaled = trace.find("scaled_scores", 0);
  const Stage* weights = trace.find("weights", 0);
  REQUIRE(scaled);
  REQUIRE(weights);
  const std::string page = render_html(trace, HtmlOptions{});

  // Row 1, column 2, recomputed here as the reference does: exp(s − row max) / row sum.
  const float s = scaled->data(1, 2);
  const float m = scaled->data.row(1).maxCoeff();
  float sum = 0.0f;
  for (Eigen::Index j = 0; j < scaled->data.cols(); ++j) sum += std::exp(scaled->data(1, j) - m);
  const std::string title = fmt::format(
      "title=\"P[1][2] = {} (head 1 of 2)&#10;query “sat” → key “mat”&#10;P[1][2] = exp(S&#39;[1][2] − max) / Σ "
      "(max and Σ of row 1: hover over its label)&#10;= exp({} − {}) / {}&#10;= {} / {} = {}\"",
      weights->data(1, 2), s, m, sum, std::exp(s - m), sum, weights->data(1, 2));
  CHECK_THAT(page, Contains(title));
  CHECK_THAT(page, Contains(fmt::format("max = {}: the largest S&#39; of row 1", m)));
  // The cell shows the weight at the precision asked for.
  HtmlOptions two;
  two.precision = 2;
  CHECK_THAT(render_html(trace, two), Contains(fmt::format(">{:.2f}</td>", weights->data(1, 2))));
  // S' shows how it came from S.
  CHECK_THAT(page, Contains(fmt::format("= {} × {} / 1 = {}", trace.find("scores", 0)->data(1, 2), trace.config.scale, s)));
}

TEST_CASE("HTML: hostile sentences and labels are shown, never markup", "[html]") {
  const std::string sentence = R"(<script>document.title='pwned'</script> "cat" & 'sat' <img src=x onerror=alert(2)> mat)";
  // The tokenizer drops the punctuation, so the words are scriptdocumenttitlepwnedscript, cat, ...: an
  // embeddings file must know them; the identity model keeps it small.
  const Embeddings emb = parse_embeddings(R"({
    "format": "attnviz-embeddings", "version": 1, "name": "<img src=x onerror=alert(1)>", "dim": 2,
    "dimension_labels": ["<b>bold</b>", "\"q\" & 'a'"],
    "vectors": { "scriptdocumenttitlepwnedscript": [1, 0], "cat": [0, 1], "sat": [1, 1], "img": [0.5, 0],
                 "srcx": [0, 0.5], "onerroralert2": [0.2, 0.1], "mat": [0.3, 0.3] }
  })", "hostile.json");
  Trace trace = run_attention(emb, identity_model(2, 1), sentence, {});
  trace.notes.push_back("a note with <em>markup</em>");
  HtmlOptions options;
  options.title = "<h1>title</h1>";
  options.description = "description & <u>more</u>";
  const LessonNumbers numbers = lesson_numbers("<w>", 0, {"<s>near</s>", "far"}, {0.1f, 0.3f}, {0.15f, 0.2f}, {0.2f, 0.1f});
  const std::string page = render_html({HtmlSection{trace, "<w>", numbers}}, options);

  // No element but the page's own: no script, image, or markup from the data.
  for (const char* tag : {"<script", "<img", "<b>", "<em>", "<u>", "<s>", "<w>", "<h1>title"})
    CHECK_THAT(page, !Contains(tag));
  CHECK_THAT(page, Contains("&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt; &quot;cat&quot; &amp; &#39;sat&#39; "
                            "&lt;img src=x onerror=alert(2)&gt; mat"));
  CHECK_THAT(page, Contains("<th scope=\"col\" title=\"column 0\">&lt;b&gt;bold&lt;/b&gt;</th>"));
  CHECK_THAT(page, Contains("&quot;q&quot; &amp; &#39;a&#39;"));
  CHECK_THAT(page, Contains("&lt;img src=x onerror=alert(1)&gt; (2 dimensions)"));
  CHECK_THAT(page, Contains("<title>attnviz: &lt;h1&gt;title&lt;/h1&gt;</title>"));
  CHECK_THAT(page, Contains("description &amp; &lt;u&gt;more&lt;/u&gt;"));
  CHECK_THAT(page, Contains("a note with &lt;em&gt;markup&lt;/em&gt;"));
  CHECK_THAT(page, Contains("&lt;s&gt;near&lt;/s&gt;"));
  // Every attribute value is quoted and holds no raw quote: count the quotes, they pair up.
  CHECK(count(page, "\"") % 2 == 0);
}

TEST_CASE("HTML: the page needs nothing from outside: a CSP forbids loads, no script, no URL", "[html]") {
  const std::string page = render_html(hostile_trace("cat sat"), HtmlOptions{});
  CHECK_THAT(page, Contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src "
                            "'unsafe-inline'; base-uri 'none'; form-action 'none'\">"));
  CHECK_THAT(page, Contains("<meta charset=\"utf-8\">"));
  for (const char* external : {"http:", "https:", "//", "<script", "<link", "<img", "<iframe", "@import", "url("})
    CHECK_THAT(page, !Contains(external));
  CHECK_THAT(page, Contains("@media print"));
  CHECK_THAT(page, Contains("print-color-adjust: exact"));
}

TEST_CASE("HTML: --stages unfolds the chosen stages, the others stay on the page, folded", "[html]") {
  const Trace trace = hostile_trace("cat sat mat");
  HtmlOptions options;
  options.open_stages = {"weights", "output"};
  const std::string page = render_html(trace, options);
  CHECK(count(page, "<details class=\"stage\"") == trace.stages.size());
  CHECK(count(page, " open>") == 2 + 1);  // weights of both heads, and the output
  CHECK_THAT(page, Contains("data-stage=\"weights\" data-head=\"1\" open>"));
  CHECK_THAT(page, Contains("data-stage=\"embeddings\" data-head=\"\">"));
  CHECK(count(render_html(trace, HtmlOptions{}), " open>") == trace.stages.size());
}

TEST_CASE("HTML: a page too large for a browser is refused, not written", "[html]") {
  const Trace trace = hostile_trace("cat sat mat");
  std::size_t cells = 0;
  for (const auto& s : trace.stages) cells += static_cast<std::size_t>(s.data.size());
  HtmlOptions options;
  options.max_cells = cells;
  CHECK_NOTHROW(render_html(trace, options));
  options.max_cells = cells - 1;
  CHECK_THROWS_AS(render_html(trace, options), InputError);
  CHECK_THROWS_WITH(render_html(trace, options), Contains(fmt::format("would hold {} table cells", cells)));
}

TEST_CASE("HTML: --html writes one page whole, or nothing", "[html][cli]") {
  TempDir dir;
  const auto page = dir.path() / "cat.html";
  auto r = run_attnviz({"run", "the cat chased the mouse", "--html", page.string(), "--color", "never"});
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Contains("weights P"));  // the tables are still printed
  const std::string html = attnviz::test::read_text(page);
  CHECK(html.ends_with("</html>\n"));
  CHECK(count(html, "<table class=\"heatmap\">") == 10);

  // To standard output: the page only, no tables.
  auto out = run_attnviz({"run", "the cat chased the mouse", "--html", "-"});
  REQUIRE(out.exit_code == 0);
  CHECK(out.out.starts_with("<!DOCTYPE html>"));
  CHECK(out.out == html);
  auto both = run_attnviz({"run", "the cat chased the mouse", "--html", "-", "--json", "-"});
  CHECK(both.exit_code == 2);
  CHECK_THAT(both.err, Contains("both want standard output"));

  // An error leaves an existing page as it was and creates no new one.
  attnviz::test::TempDir other;
  const auto kept = other.write("kept.html", "old page");
  CHECK(run_attnviz({"run", "the zzyzx", "--html", kept.string()}).exit_code == 2);
  CHECK(attnviz::test::read_text(kept) == "old page");
  const auto never = dir.path() / "never.html";
  CHECK(run_attnviz({"run", "the zzyzx", "--html", never.string()}).exit_code == 2);
  CHECK_FALSE(fs::exists(never));
  auto unwritable = run_attnviz({"run", "the cat", "--html", (dir.path() / "no/such/dir/p.html").string()});
  CHECK(unwritable.exit_code == 2);
  CHECK_THAT(unwritable.err, Contains("no/such/dir/p.html"));
  for (const auto& entry : fs::directory_iterator(dir.path())) CHECK(entry.path().filename().string().find(".tmp") == std::string::npos);

  // Hundreds of words: refused with a message, before anything is written.
  std::string long_sentence;
  for (int i = 0; i < 60; ++i) long_sentence += "the cat chased the mouse ";
  const auto big = dir.path() / "big.html";
  auto refused = run_attnviz({"run", long_sentence, "--html", big.string()});
  CHECK(refused.exit_code == 2);
  CHECK_THAT(refused.err, Contains("--html: the page would hold"));
  CHECK(refused.out.empty());
  CHECK_FALSE(fs::exists(big));
}

TEST_CASE("HTML: demo --html puts the whole lesson on one page", "[html][cli]") {
  TempDir dir;
  const auto page = dir.path() / "mouse.html";
  auto r = run_attnviz({"demo", "mouse", "--html", page.string(), "--stages", "weights", "--color", "never"});
  REQUIRE(r.exit_code == 0);
  const std::string html = attnviz::test::read_text(page);
  CHECK(count(html, "<section class=\"trace\"") == 2);
  CHECK_THAT(html, Contains("Sentence 2 of 2"));
  CHECK_THAT(html, Contains("<h3>“mouse” before and after attention</h3>"));
  CHECK_THAT(html, Contains("<p class=\"claim\">→ &quot;mouse&quot; ends closer to cartoon (0.942) than to technology (0.119)"));
  CHECK_THAT(html, Contains("<p class=\"claim\">→ &quot;mouse&quot; ends closer to technology (0.961) than to cartoon (0.218)"));
  CHECK_THAT(html, Contains("<th scope=\"col\">uniform</th>"));
  CHECK(count(html, "<table class=\"heatmap\">") == 20);
  CHECK(count(html, " open>") == 2);  // --stages weights: one weights table per sentence unfolded
}
