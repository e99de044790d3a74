/* SPDX-License-Identifier: Apache-2.0 */
/* Copyright 2026 The lgrin-edge authors */
/*
 * lgrin_frontend.c - the lgrin-speech front-end (lgrin_frontend.h). Each step follows the published
 * definition named in lgrin_edge/frontend/speech.py and computes what that module computes, in the same
 * order where the result of a comparison depends on it: tables from the same libm calls, the resampler's
 * sums tap by tap, the same peak search. No allocation; the caller's state block holds everything.
 */
#include "lgrin_frontend.h"

/* libm, declared here rather than through <math.h> so that the file compiles without a C library's
 * headers (microcontroller toolchains); any libm links. */
double sqrt(double);
double log(double);
double log10(double);
double log2(double);
double sin(double);
double cos(double);
#ifdef LGRIN_FRONTEND_FLOAT32
typedef float real;
float sqrtf(float);
float logf(float);
float log10f(float);
#define R_SQRT sqrtf
#define R_LOG logf
#define R_LOG10 log10f
#else
typedef double real;
#define R_SQRT sqrt
#define R_LOG log
#define R_LOG10 log10
#endif

#define FE_PI 3.141592653589793     /* math.pi */
#define FE_TWO_PI 6.283185307179586 /* 2.0 * math.pi, exactly */
#define FE_MAGIC 0x4546474cu        /* "LGFE" */

typedef struct fe_state {
    uint32_t magic, flushed;
    lgrin_frontend_spec spec;
    /* geometry (lgrin_edge/frontend/spec.py derives the same) */
    uint32_t n_frame, hop, nfft, pitch_fft, nmax, lp, tmin, tmax, n_desc, width, span, need_pitch;
    int32_t lo, pitch_start;              /* frame context [first + lo, first + hi); pitch window in it */
    uint32_t up, down, ntaps, half;       /* resampler L, M, K, K/2; up == 0: input at the spec's rate */
    uint32_t mel_total;
    real window_energy;
    /* stream */
    uint64_t n_real, n_in, n_out; /* samples given; inputs through the ring; samples at the spec's rate */
    uint64_t next_frame, emitted;
    uint32_t ring_pos, fill, hist_rows;
    /* array offsets in bytes from the state's start */
    size_t o_hamming, o_hann, o_cos, o_sin, o_mel_first, o_mel_count, o_mel_w, o_dct, o_lifter, o_octave,
        o_wac, o_taps, o_ring, o_sig, o_re, o_im, o_hist, o_logmel, o_mfcc, end;
} fe_state;

#define ARR(st, type, off) ((type *)((unsigned char *)(st) + (st)->off))

/* ---------------------------------------------------------------------------------------------------
 * Spec checks and geometry */

static int is_finite(double v) { return v - v == 0.0; }

static double hz_to_mel(double f) { return 2595.0 * log10(1.0 + f / 700.0); }

/* Triangle `band` (1..mel_bands) at FFT bin k, unit peak, in mel (Davis & Mermelstein 1980; HTK). */
static double mel_weight(const lgrin_frontend_spec *s, uint32_t band, uint32_t k)
{
    double lo = hz_to_mel(s->mel_low_hz), hi = hz_to_mel(s->mel_high_hz);
    double left = lo + (double)(band - 1) * (hi - lo) / (double)(s->mel_bands + 1);
    double mid = lo + (double)band * (hi - lo) / (double)(s->mel_bands + 1);
    double right = lo + (double)(band + 1) * (hi - lo) / (double)(s->mel_bands + 1);
    double m = hz_to_mel((double)k * (double)s->sample_rate / (double)s->fft_size);
    if (left < m && m < mid)
        return (m - left) / (mid - left);
    if (mid <= m && m < right)
        return (right - m) / (right - mid);
    return 0.0;
}

/* The bins [*first, *last] where triangle `band` is positive; 0 when there are none. */
static int band_bins(const lgrin_frontend_spec *s, uint32_t band, uint32_t *first, uint32_t *last)
{
    uint32_t k;
    int any = 0;
    for (k = 0; k <= s->fft_size / 2; k++)
        if (mel_weight(s, band, k) > 0.0) {
            if (!any)
                *first = k;
            *last = k;
            any = 1;
        }
    return any;
}

static uint32_t pow2_at_least(uint32_t n)
{
    uint32_t p = 1;
    while (p < n)
        p <<= 1;
    return p;
}

static uint32_t gcd(uint32_t a, uint32_t b)
{
    while (b) {
        uint32_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static int check_descriptors(const lgrin_frontend_spec *s)
{
    uint32_t i, j;
    if (s->n_descriptors < 1 || s->n_descriptors > LGRIN_FE_MAX_DESCRIPTORS)
        return 0;
    for (i = 0; i < s->n_descriptors; i++) {
        unsigned kind = s->descriptors[i] >> 8, index = s->descriptors[i] & 0xffu;
        int ok = (kind >= LGRIN_FE_RMS && kind <= LGRIN_FE_HNR && index == 0) ||
                 (kind == LGRIN_FE_MFCC && index >= 1 && index <= s->cepstra) ||
                 (kind == LGRIN_FE_LOGMEL && index >= 1 && index <= s->mel_bands);
        if (!ok)
            return 0;
        for (j = 0; j < i; j++)
            if (s->descriptors[j] == s->descriptors[i])
                return 0;
    }
    return 1;
}

/* The spec's rules that need nothing derived: finite reals, rates, framing, mel bands, cepstra, f0 range. */
static int valid_scalars(const lgrin_frontend_spec *s)
{
    const double reals[] = {s->preemphasis, s->mel_low_hz, s->mel_high_hz, s->lifter, s->log_floor,
                            s->f0_min_hz, s->f0_max_hz, s->voicing_threshold, s->octave_cost, s->silence_rms,
                            s->hnr_r_eps, s->resample_cutoff, s->resample_kaiser_beta};
    uint32_t i;
    for (i = 0; i < sizeof reals / sizeof reals[0]; i++)
        if (!is_finite(reals[i]))
            return 0;
    if (s->version != LGRIN_FE_VERSION || s->sample_rate < 1000 || s->sample_rate > 192000)
        return 0;
    if (s->frame_length < 2 || s->frame_length > s->fft_size || s->fft_size > LGRIN_FE_MAX_FFT ||
        (s->fft_size & (s->fft_size - 1)) || s->hop < 1 || s->hop > s->frame_length)
        return 0;
    if (!(s->preemphasis >= 0.0 && s->preemphasis < 1.0) || !(s->mel_low_hz >= 0.0) ||
        !(s->mel_low_hz < s->mel_high_hz) || !(s->mel_high_hz <= (double)s->sample_rate / 2.0))
        return 0;
    if (s->mel_bands < 2 || s->mel_bands > 128 || s->cepstra < 1 || s->cepstra >= s->mel_bands ||
        s->lifter < 0.0 || !(s->log_floor > 0.0))
        return 0;
    return s->f0_min_hz > 0.0 && s->f0_min_hz < s->f0_max_hz;
}

/* The pitch lags st->tmin..tmax (samples) from the f0 range, and the pitch window's rules they bound. */
static int derive_lags(fe_state *st, const lgrin_frontend_spec *s)
{
    double lag_lo = (double)s->sample_rate / s->f0_max_hz; /* ceil and floor of these, as math.ceil/floor */
    double lag_hi = (double)s->sample_rate / s->f0_min_hz;
    if (lag_hi > 1e9)
        return 0;
    st->tmin = (uint32_t)lag_lo + ((double)(uint32_t)lag_lo < lag_lo);
    st->tmax = (uint32_t)lag_hi;
    if (st->tmin < 2 || st->tmin >= st->tmax)
        return 0;
    return !(s->pitch_length < s->frame_length || (s->pitch_length - s->frame_length) % 2 ||
             2 * (st->tmax + 1) > s->pitch_length || s->pitch_length + st->tmax + 2 > LGRIN_FE_MAX_FFT);
}

/* The rules of the voicing, HNR, delta, resampler and descriptor options. */
static int valid_options(const lgrin_frontend_spec *s)
{
    if (!(s->voicing_threshold >= 0.0 && s->voicing_threshold <= 1.0) || s->octave_cost < 0.0 ||
        s->silence_rms < 0.0 || !(s->hnr_r_eps > 0.0 && s->hnr_r_eps < 0.5) || s->delta_window < 1 ||
        s->delta_window > 8)
        return 0;
    return !(s->resample_zero_crossings < 1 || s->resample_zero_crossings > 64 ||
             !(s->resample_cutoff > 0.0) || s->resample_cutoff > 1.0 || !(s->resample_kaiser_beta >= 0.0) ||
             s->resample_kaiser_beta > 30.0 || !check_descriptors(s));
}

/* st->mel_total, the FFT bins of all mel bands together; 0 if a band holds no bin. */
static int count_mel_bins(fe_state *st, const lgrin_frontend_spec *s)
{
    uint32_t i;
    st->mel_total = 0;
    for (i = 1; i <= s->mel_bands; i++) {
        uint32_t first = 0, last = 0;
        if (!band_bins(s, i, &first, &last))
            return 0;
        st->mel_total += last - first + 1;
    }
    return 1;
}

/* The resampler from input_rate to the spec's rate: up/down factors and taps (none for equal rates). */
static int derive_resampler(fe_state *st, const lgrin_frontend_spec *s, uint32_t input_rate)
{
    uint32_t g;
    if (input_rate < 1 || input_rate > 192000)
        return LGRIN_FE_E_RATE;
    g = gcd(input_rate, s->sample_rate);
    st->up = s->sample_rate / g;
    st->down = input_rate / g;
    if (st->up > LGRIN_FE_MAX_PHASES)
        return LGRIN_FE_E_RATE;
    /* K = 2 ceil(W) taps: W = zero crossings / min(1, L / M) input samples */
    st->half = st->up >= st->down ? s->resample_zero_crossings
                                  : (s->resample_zero_crossings * st->down + st->up - 1) / st->up;
    if (input_rate == s->sample_rate)
        st->up = st->half = 0; /* no resampler */
    st->ntaps = 2 * st->half;
    return LGRIN_FE_OK;
}

/* Frame, FFT and pitch window sizes, the descriptors' width and the span of samples one frame reads. */
static void derive_geometry(fe_state *st, const lgrin_frontend_spec *s)
{
    uint32_t i;
    int32_t po, hi;
    st->n_frame = s->frame_length;
    st->hop = s->hop;
    st->nfft = s->fft_size;
    st->lp = s->pitch_length;
    st->pitch_fft = pow2_at_least(s->pitch_length + st->tmax + 2);
    st->nmax = st->nfft > st->pitch_fft ? st->nfft : st->pitch_fft;
    st->n_desc = s->n_descriptors;
    st->width = 2 * s->n_descriptors;
    st->need_pitch = 0;
    for (i = 0; i < s->n_descriptors; i++) {
        unsigned kind = s->descriptors[i] >> 8;
        st->need_pitch |= kind == LGRIN_FE_VOICING || kind == LGRIN_FE_F0 || kind == LGRIN_FE_HNR;
    }
    po = -(int32_t)((s->pitch_length - s->frame_length) / 2);
    hi = (int32_t)s->frame_length > po + (int32_t)s->pitch_length ? (int32_t)s->frame_length
                                                                   : po + (int32_t)s->pitch_length;
    st->lo = po < -1 ? po : -1;
    st->span = (uint32_t)(hi - st->lo);
    st->pitch_start = po - st->lo;
}

/* Check the spec (the rules of SpeechSpec.problem) and the input rate, and fill st's geometry. */
static int derive(fe_state *st, const lgrin_frontend_spec *s, uint32_t input_rate)
{
    int rc;
    if (!valid_scalars(s) || !derive_lags(st, s) || !valid_options(s) || !count_mel_bins(st, s))
        return LGRIN_FE_E_ARG;
    rc = derive_resampler(st, s, input_rate);
    if (rc != LGRIN_FE_OK)
        return rc;
    derive_geometry(st, s);
    return LGRIN_FE_OK;
}

static size_t take(size_t *at, size_t bytes)
{
    size_t off = *at;
    *at = (off + bytes + 7u) & ~(size_t)7u;
    return off;
}

/* Offsets of every array after the struct; returns the total size. */
static size_t layout(fe_state *st)
{
    size_t at = (sizeof(fe_state) + 7u) & ~(size_t)7u, r = sizeof(real);
    uint32_t b = st->spec.mel_bands, c = st->spec.cepstra, d = st->n_desc, w = st->spec.delta_window;
    st->o_hamming = take(&at, r * st->n_frame);
    st->o_hann = take(&at, r * st->lp);
    st->o_cos = take(&at, r * (st->nmax / 2));
    st->o_sin = take(&at, r * (st->nmax / 2));
    st->o_mel_first = take(&at, sizeof(uint32_t) * b);
    st->o_mel_count = take(&at, sizeof(uint32_t) * b);
    st->o_mel_w = take(&at, r * st->mel_total);
    st->o_dct = take(&at, r * c * b);
    st->o_lifter = take(&at, r * c);
    st->o_octave = take(&at, r * (st->tmax + 2));
    st->o_wac = take(&at, r * (st->tmax + 2));
    st->o_taps = take(&at, r * (size_t)st->up * st->ntaps);
    st->o_ring = take(&at, r * 2 * st->ntaps);
    st->o_sig = take(&at, r * st->span);
    st->o_re = take(&at, r * st->nmax);
    st->o_im = take(&at, r * st->nmax);
    st->o_hist = take(&at, r * (2 * w + 1) * d);
    st->o_logmel = take(&at, r * b);
    st->o_mfcc = take(&at, r * c);
    st->end = at;
    return at;
}

/* ---------------------------------------------------------------------------------------------------
 * Arithmetic */

/* In-place forward DFT of n (a power of two <= nmax) complex points: iterative radix-2 decimation in
 * time (Cooley & Tukey 1965), twiddles exp(-2 pi i k / len) read from the nmax-point tables. */
static void fft(real *re, real *im, uint32_t n, const real *cs, const real *sn, uint32_t nmax)
{
    uint32_t i, j = 0, len, k;
    for (i = 1; i < n; i++) {
        uint32_t bit = n >> 1;
        for (; j & bit; bit >>= 1)
            j ^= bit;
        j ^= bit;
        if (i < j) {
            real t = re[i];
            re[i] = re[j];
            re[j] = t;
            t = im[i];
            im[i] = im[j];
            im[j] = t;
        }
    }
    for (len = 2; len <= n; len <<= 1) {
        uint32_t half = len >> 1, step = nmax / len;
        for (i = 0; i < n; i += len)
            for (k = 0; k < half; k++) {
                real wr = cs[k * step], wi = -sn[k * step];
                uint32_t a = i + k, b = a + half;
                real tr = re[b] * wr - im[b] * wi, ti = re[b] * wi + im[b] * wr;
                re[b] = re[a] - tr;
                im[b] = im[a] - ti;
                re[a] = re[a] + tr;
                im[a] = im[a] + ti;
            }
    }
}

/* Forward DFT X[0..n/2] of n real points (n a power of two, 2 <= n <= nmax) given packed as re[j] = x[2j],
 * im[j] = x[2j + 1], j < n/2, into re/im[0..n/2]: one complex DFT Z of m = n/2 points, whose parts are the
 * DFTs E = (Z[k] + conj Z[m-k]) / 2 of the even and O = (Z[k] - conj Z[m-k]) / 2i of the odd samples;
 * X[k] = E[k] + w^k O[k] and X[m-k] = conj(E[k] - w^k O[k]) with w = exp(-2 pi i / n). */
static void real_fft(real *re, real *im, uint32_t n, const real *cs, const real *sn, uint32_t nmax)
{
    uint32_t m = n / 2, step = nmax / n, k;
    fft(re, im, m, cs, sn, nmax);
    re[m] = re[0] - im[0]; /* w^m = -1; Z[0] = E[0] + i O[0], both real */
    im[m] = 0;
    re[0] = re[0] + im[0];
    im[0] = 0;
    for (k = 1; 2 * k < m; k++) {
        uint32_t j = m - k;
        real er = (real)0.5 * (re[k] + re[j]), ei = (real)0.5 * (im[k] - im[j]);
        real or_ = (real)0.5 * (im[k] + im[j]), oi = (real)0.5 * (re[j] - re[k]);
        real wr = cs[k * step], wi = -sn[k * step];
        real tr = or_ * wr - oi * wi, ti = or_ * wi + oi * wr;
        re[k] = er + tr;
        im[k] = ei + ti;
        re[j] = er - tr;
        im[j] = ti - ei;
    }
    if (m > 1) /* k = m/2: w^k = -i, so X[k] = conj Z[k] exactly */
        im[m / 2] = -im[m / 2];
}

/* Autocorrelation (times n) of re[0..len) zero-padded to n, at lags 0..n/2, into re: the DFT of the power
 * spectrum P (Wiener-Khinchin), real and even (P[n-k] = P[k]), so the forward transform is the inverse. */
static void autocorrelation(fe_state *st, uint32_t len, uint32_t n)
{
    real *re = ARR(st, real, o_re), *im = ARR(st, real, o_im);
    const real *cs = ARR(st, real, o_cos), *sn = ARR(st, real, o_sin);
    uint32_t m = n / 2, j;
    for (j = 0; j < m; j++) { /* in place, upwards: re[2j], re[2j + 1] are still unread */
        im[j] = 2 * j + 1 < len ? re[2 * j + 1] : 0;
        re[j] = 2 * j < len ? re[2 * j] : 0;
    }
    real_fft(re, im, n, cs, sn, st->nmax);
    for (j = 0; j <= m; j++)
        re[j] = re[j] * re[j] + im[j] * im[j];
    /* pack P likewise: the odd samples P[2j + 1] are symmetric about j = (m - 1) / 2, the even about m/2 */
    for (j = 0; 2 * j < m; j++)
        im[m - 1 - j] = im[j] = re[2 * j + 1];
    for (j = 0; 2 * j <= m; j++)
        re[j] = re[2 * j];
    for (; j < m; j++)
        re[j] = re[m - j];
    real_fft(re, im, n, cs, sn, st->nmax);
}

/* Modified Bessel function of order 0 by its power series, a fixed 50 terms (as resample.py). */
static double bessel_i0(double x)
{
    double half = x / 2.0, term = 1.0, total = 1.0;
    int k;
    for (k = 1; k <= 50; k++) {
        double f = half / (double)k;
        term = term * f * f;
        total = total + term;
    }
    return total;
}

/* voicing, F0, HNR of the pitch window at ctx (Boersma 1993; see speech.py). */
static void pitch(fe_state *st, const real *x, real *voicing, real *f0, real *hnr)
{
    const lgrin_frontend_spec *s = &st->spec;
    real *re = ARR(st, real, o_re);
    const real *hann = ARR(st, real, o_hann), *octave = ARR(st, real, o_octave), *wac = ARR(st, real, o_wac);
    real mean = x[0], energy, peak = 0, lag = 0, clipped, best = 0;
    uint32_t i, tau;
    int found = 0;
    for (i = 1; i < st->lp; i++)
        mean += x[i];
    mean = mean / (real)st->lp;
    for (i = 0; i < st->lp; i++)
        re[i] = (x[i] - mean) * hann[i];
    autocorrelation(st, st->lp, st->pitch_fft);
    energy = re[0];
    if (energy > 0 && !(energy / st->window_energy < (real)(s->silence_rms * s->silence_rms))) {
        real *r = ARR(st, real, o_im); /* the normalised autocorrelation, lags tmin-1..tmax+1 */
        for (tau = st->tmin - 1; tau <= st->tmax + 1; tau++)
            r[tau] = re[tau] / energy / wac[tau];
        for (tau = st->tmin; tau <= st->tmax; tau++)
            if (r[tau] >= r[tau - 1] && r[tau] > r[tau + 1]) {
                /* the parabola through the peak and its neighbours: its lag shift and its value */
                real a = r[tau - 1], b = r[tau], c = r[tau + 1], den = a - (real)2.0 * b + c;
                real shift = den < 0 ? (real)0.5 * (a - c) / den : 0;
                real value = b - (real)0.25 * (a - c) * shift;
                if (!found || value - octave[tau] > best) {
                    best = value - octave[tau];
                    peak = value;
                    lag = (real)tau + shift;
                    found = 1;
                }
            }
    }
    *voicing = peak < 0 ? 0 : peak > 1 ? 1 : peak;
    *f0 = found && *voicing >= (real)s->voicing_threshold ? (real)s->sample_rate / lag : 0;
    clipped = peak < (real)s->hnr_r_eps ? (real)s->hnr_r_eps
              : peak > (real)(1.0 - s->hnr_r_eps) ? (real)(1.0 - s->hnr_r_eps) : peak;
    *hnr = (real)10.0 * R_LOG10(clipped / ((real)1.0 - clipped));
}

/* The descriptors of the frame whose context [first + lo, first + hi) starts at ctx, into row. */
static void analyse(fe_state *st, const real *ctx, real *row)
{
    const lgrin_frontend_spec *s = &st->spec;
    const real *x = ctx - st->lo, *ham = ARR(st, real, o_hamming);
    real *re = ARR(st, real, o_re), *im = ARR(st, real, o_im), *logmel = ARR(st, real, o_logmel);
    real *mfcc = ARR(st, real, o_mfcc);
    const real *mel_w = ARR(st, real, o_mel_w), *dct = ARR(st, real, o_dct), *lifter = ARR(st, real, o_lifter);
    const uint32_t *first = ARR(st, uint32_t, o_mel_first), *count = ARR(st, uint32_t, o_mel_count);
    real energy = x[0] * x[0], rms, zcr, voicing = 0, f0 = 0, hnr = 0;
    uint32_t i, b, k, crossings = 0, n = st->n_frame;
    for (i = 1; i < n; i++) {
        energy += x[i] * x[i];
        crossings += (x[i] >= 0) != (x[i - 1] >= 0);
    }
    rms = R_SQRT(energy / (real)n);
    zcr = (real)crossings / (real)n;
    for (i = 0; i < st->nfft; i++) /* packed as real_fft takes it: even samples in re, odd in im */
        (i & 1 ? im : re)[i >> 1] = i < n ? (x[i] - (real)s->preemphasis * x[(int32_t)i - 1]) * ham[i] : 0;
    real_fft(re, im, st->nfft, ARR(st, real, o_cos), ARR(st, real, o_sin), st->nmax);
    for (b = 0; b < s->mel_bands; b++) {
        real e = 0;
        for (k = 0; k < count[b]; k++) {
            uint32_t j = first[b] + k;
            e += mel_w[k] * (re[j] * re[j] + im[j] * im[j]);
        }
        mel_w += count[b];
        logmel[b] = R_LOG(e > (real)s->log_floor ? e : (real)s->log_floor);
    }
    for (k = 0; k < s->cepstra; k++) {
        real c = 0;
        for (b = 0; b < s->mel_bands; b++)
            c += logmel[b] * dct[k * s->mel_bands + b];
        mfcc[k] = c * lifter[k];
    }
    if (st->need_pitch)
        pitch(st, ctx + st->pitch_start, &voicing, &f0, &hnr);
    for (i = 0; i < st->n_desc; i++) {
        unsigned index = s->descriptors[i] & 0xffu;
        switch (s->descriptors[i] >> 8) {
        case LGRIN_FE_RMS: row[i] = rms; break;
        case LGRIN_FE_ZCR: row[i] = zcr; break;
        case LGRIN_FE_VOICING: row[i] = voicing; break;
        case LGRIN_FE_F0: row[i] = f0; break;
        case LGRIN_FE_HNR: row[i] = hnr; break;
        case LGRIN_FE_MFCC: row[i] = mfcc[index - 1]; break;
        default: row[i] = logmel[index - 1]; break;
        }
    }
}

/* ---------------------------------------------------------------------------------------------------
 * Streaming: ring (resampler) -> sig (frame context) -> hist (delta window) -> out */

/* One more descriptor row: the delta window keeps the 2W + 1 rows around the next frame to emit (the
 * first row stands in for the W before it); a full window emits that frame. */
static void add_row(fe_state *st, const real *row, float **out)
{
    uint32_t w = st->spec.delta_window, d = st->n_desc, i, k;
    real *hist = ARR(st, real, o_hist);
    do {
        for (i = 0; i < d; i++)
            hist[st->hist_rows * d + i] = row[i];
        st->hist_rows++;
    } while (st->hist_rows <= w); /* the very first row fills the W rows before it too */
    if (st->hist_rows < 2 * w + 1)
        return;
    for (i = 0; i < d; i++) {
        real acc = 0;
        for (k = 1; k <= w; k++)
            acc += (real)k * (hist[(w + k) * d + i] - hist[(w - k) * d + i]);
        (*out)[i] = (float)hist[w * d + i];
        (*out)[d + i] = (float)(acc / (real)(w * (w + 1) * (2 * w + 1) / 3));
    }
    *out += st->width;
    st->emitted++;
    for (i = 0; i < 2 * w * d; i++)
        hist[i] = hist[i + d];
    st->hist_rows--;
}

/* One sample at the spec's rate. */
static void add_sample(fe_state *st, real y, float **out)
{
    real *sig = ARR(st, real, o_sig), *row = ARR(st, real, o_hist) + st->hist_rows * st->n_desc;
    uint32_t i;
    sig[st->fill++] = y;
    st->n_out++;
    if (st->fill < st->span)
        return;
    /* the row is analysed straight into the history's next free slot, then added (copied onto itself) */
    analyse(st, sig, row);
    add_row(st, row, out);
    st->next_frame++;
    for (i = 0; i + st->hop < st->span; i++)
        sig[i] = sig[i + st->hop];
    st->fill -= st->hop;
}

/* One input sample: straight through, or into the resampler's ring and out as every output it completes. */
static void add_input(fe_state *st, real x, float **out, uint64_t limit)
{
    real *ring = ARR(st, real, o_ring);
    const real *taps = ARR(st, real, o_taps);
    if (!st->up) {
        add_sample(st, x, out);
        return;
    }
    ring[st->ring_pos] = x; /* stored twice, so the last K inputs are always contiguous */
    ring[st->ring_pos + st->ntaps] = x;
    st->ring_pos = (st->ring_pos + 1) % st->ntaps;
    st->n_in++;
    /* output n reads inputs up to floor(n M / L) + K/2: complete when that is the newest one */
    while (st->n_out < limit && st->n_out * st->down / st->up + st->half < st->n_in) {
        const real *h = taps + (size_t)(st->n_out * st->down % st->up) * st->ntaps, *xs = ring + st->ring_pos;
        real acc = 0;
        uint32_t j;
        for (j = 0; j < st->ntaps; j++)
            acc += xs[j] * h[j];
        add_sample(st, acc, out);
    }
}

/* ---------------------------------------------------------------------------------------------------
 * API */

void lgrin_frontend_default_spec(lgrin_frontend_spec *spec)
{
    static const lgrin_frontend_spec d = {LGRIN_FE_VERSION, 16000, 400, 160, 512, 0.97, 26, 12, 20.0, 8000.0,
                                          22.0, 1e-10, 960, 2, 50.0, 500.0, 0.45, 0.01, 1e-5, 1e-6, 16, 16,
                                          0.9, 8.0, {0}};
    uint32_t k;
    if (!spec)
        return;
    *spec = d;
    spec->descriptors[0] = LGRIN_FE_DESC(LGRIN_FE_RMS, 0);
    spec->descriptors[1] = LGRIN_FE_DESC(LGRIN_FE_ZCR, 0);
    spec->descriptors[2] = LGRIN_FE_DESC(LGRIN_FE_VOICING, 0);
    spec->descriptors[3] = LGRIN_FE_DESC(LGRIN_FE_F0, 0);
    for (k = 1; k <= 12; k++)
        spec->descriptors[3 + k] = LGRIN_FE_DESC(LGRIN_FE_MFCC, k);
}

int lgrin_frontend_check(const lgrin_frontend_spec *spec, uint32_t input_rate)
{
    fe_state st;
    return spec ? derive(&st, spec, input_rate) : LGRIN_FE_E_ARG;
}

size_t lgrin_frontend_state_size(const lgrin_frontend_spec *spec, uint32_t input_rate)
{
    fe_state st;
    if (!spec || derive(&st, spec, input_rate) != LGRIN_FE_OK)
        return 0;
    st.spec = *spec;
    return layout(&st);
}

int lgrin_frontend_reset(void *state)
{
    fe_state *st = (fe_state *)state;
    uint32_t i;
    if (!st || st->magic != FE_MAGIC)
        return LGRIN_FE_E_STATE;
    st->flushed = 0;
    st->n_real = st->n_in = st->n_out = st->next_frame = st->emitted = 0;
    st->ring_pos = st->hist_rows = 0;
    for (i = 0; i < 2 * st->ntaps; i++) /* zeros before the first input */
        ARR(st, real, o_ring)[i] = 0;
    for (i = 0; i < st->span; i++)
        ARR(st, real, o_sig)[i] = 0;
    st->fill = (uint32_t)-st->lo; /* the context of frame 0 starts lo samples before the signal */
    return LGRIN_FE_OK;
}

/* The tables below each follow the formula of lgrin_edge/frontend/tables.py or resample.py. */

/* Hamming (frame) and Hann (pitch) windows, and the FFT's twiddles. */
static void fill_windows(fe_state *st)
{
    uint32_t i, k;
    for (i = 0; i < st->n_frame; i++)
        ARR(st, real, o_hamming)[i] = (real)(0.54 - 0.46 * cos(FE_TWO_PI * (double)i / (double)(st->n_frame - 1)));
    for (i = 0; i < st->lp; i++)
        ARR(st, real, o_hann)[i] = (real)(0.5 - 0.5 * cos(FE_TWO_PI * (double)i / (double)(st->lp - 1)));
    for (k = 0; k < st->nmax / 2; k++) {
        ARR(st, real, o_cos)[k] = (real)cos(FE_TWO_PI * (double)k / (double)st->nmax);
        ARR(st, real, o_sin)[k] = (real)sin(FE_TWO_PI * (double)k / (double)st->nmax);
    }
}

/* The mel filterbank (each band's first bin, bin count and weights), the DCT and the lifter. */
static void fill_mel_cepstra(fe_state *st, const lgrin_frontend_spec *s)
{
    real *mel_w = ARR(st, real, o_mel_w);
    uint32_t b, k, j;
    for (b = 1; b <= s->mel_bands; b++) {
        uint32_t first = 0, last = 0;
        band_bins(s, b, &first, &last);
        ARR(st, uint32_t, o_mel_first)[b - 1] = first;
        ARR(st, uint32_t, o_mel_count)[b - 1] = last - first + 1;
        for (k = first; k <= last; k++)
            *mel_w++ = (real)mel_weight(s, b, k);
    }
    for (k = 1; k <= s->cepstra; k++) {
        for (j = 0; j < s->mel_bands; j++)
            ARR(st, real, o_dct)[(k - 1) * s->mel_bands + j] =
                (real)(sqrt(2.0 / (double)s->mel_bands) *
                       cos(FE_PI * (double)k * ((double)j + 0.5) / (double)s->mel_bands));
        ARR(st, real, o_lifter)[k - 1] =
            (real)(s->lifter > 0.0 ? 1.0 + s->lifter / 2.0 * sin(FE_PI * (double)k / s->lifter) : 1.0);
    }
}

/* The pitch tracker's octave costs per lag and the Hann window's normalised autocorrelation. */
static void fill_pitch(fe_state *st, const lgrin_frontend_spec *s)
{
    real *re = ARR(st, real, o_re);
    uint32_t i, tau;
    for (tau = 0; tau < st->tmax + 2; tau++)
        ARR(st, real, o_octave)[tau] =
            (real)(tau >= st->tmin && tau <= st->tmax
                       ? s->octave_cost * log2(s->f0_min_hz * (double)tau / (double)s->sample_rate)
                       : 0.0);
    for (i = 0; i < st->lp; i++)
        re[i] = ARR(st, real, o_hann)[i];
    autocorrelation(st, st->lp, st->pitch_fft);
    st->window_energy = re[0];
    for (tau = 0; tau < st->tmax + 2; tau++)
        ARR(st, real, o_wac)[tau] = re[tau] / re[0];
}

/* The resampler's taps h(p / L + K/2 - 1 - j) of each phase p (resample.py: taps). */
static void fill_taps(fe_state *st, const lgrin_frontend_spec *s)
{
    double width = st->up >= st->down ? (double)s->resample_zero_crossings
                                      : (double)s->resample_zero_crossings * (double)st->down / (double)st->up;
    double fc = s->resample_cutoff * (st->up >= st->down ? 1.0 : (double)st->up / (double)st->down);
    double i0_beta = bessel_i0(s->resample_kaiser_beta);
    uint32_t p, j;
    for (p = 0; p < st->up; p++)
        for (j = 0; j < st->ntaps; j++) {
            double tau_f = (double)p / (double)st->up + (double)((int32_t)st->half - 1 - (int32_t)j);
            double u = tau_f / width, arg = FE_PI * fc * tau_f, h = 0.0;
            if (u * u < 1.0)
                h = fc * (tau_f == 0.0 ? 1.0 : sin(arg) / arg) *
                    (bessel_i0(s->resample_kaiser_beta * sqrt(1.0 - u * u)) / i0_beta);
            ARR(st, real, o_taps)[(size_t)p * st->ntaps + j] = (real)h;
        }
}

int lgrin_frontend_init(void *state, size_t size, const lgrin_frontend_spec *spec, uint32_t input_rate)
{
    fe_state *st = (fe_state *)state;
    int rc;
    fe_state planned;
    if (!st || !spec)
        return LGRIN_FE_E_ARG;
    if ((uintptr_t)state & 7u)
        return LGRIN_FE_E_ALIGN;
    rc = derive(&planned, spec, input_rate);
    if (rc != LGRIN_FE_OK)
        return rc;
    planned.spec = *spec;
    if (size < layout(&planned))
        return LGRIN_FE_E_SPACE;
    *st = planned;
    st->magic = 0;
    fill_windows(st);
    fill_mel_cepstra(st, &st->spec);
    fill_pitch(st, &st->spec);
    if (st->up)
        fill_taps(st, &st->spec);
    st->magic = FE_MAGIC;
    return lgrin_frontend_reset(st);
}

uint32_t lgrin_frontend_width(const void *state)
{
    const fe_state *st = (const fe_state *)state;
    return st && st->magic == FE_MAGIC ? st->width : 0;
}

size_t lgrin_frontend_max_frames(const void *state, size_t n)
{
    const fe_state *st = (const fe_state *)state;
    uint64_t total, frames;
    if (!st || st->magic != FE_MAGIC)
        return 0;
    total = st->n_real + n;
    if (st->up)
        total = (total * st->up + st->down - 1) / st->down;
    frames = total >= st->n_frame ? (total - st->n_frame) / st->hop + 1 : 0;
    return frames > st->emitted ? (size_t)(frames - st->emitted) : 0;
}

static int check_push(const fe_state *st, size_t n, const float *out, size_t max_frames)
{
    if (!st || st->magic != FE_MAGIC || st->flushed)
        return LGRIN_FE_E_STATE;
    if (max_frames < lgrin_frontend_max_frames(st, n))
        return LGRIN_FE_E_OUTPUT;
    if (!out && lgrin_frontend_max_frames(st, n) > 0)
        return LGRIN_FE_E_ARG;
    return LGRIN_FE_OK;
}

ptrdiff_t lgrin_frontend_push(void *state, const float *pcm, size_t n, float *out, size_t max_frames)
{
    fe_state *st = (fe_state *)state;
    uint64_t before;
    size_t i;
    int rc = check_push(st, n, out, max_frames);
    if (rc != LGRIN_FE_OK)
        return rc;
    if (!pcm && n)
        return LGRIN_FE_E_ARG;
    for (i = 0; i < n; i++)
        if (!is_finite(pcm[i]))
            return LGRIN_FE_E_INPUT;
    before = st->emitted;
    for (i = 0; i < n; i++)
        add_input(st, (real)pcm[i], &out, (uint64_t)-1);
    st->n_real += n;
    return (ptrdiff_t)(st->emitted - before);
}

ptrdiff_t lgrin_frontend_push_i16(void *state, const int16_t *pcm, size_t n, float *out, size_t max_frames)
{
    fe_state *st = (fe_state *)state;
    uint64_t before;
    size_t i;
    int rc = check_push(st, n, out, max_frames);
    if (rc != LGRIN_FE_OK)
        return rc;
    if (!pcm && n)
        return LGRIN_FE_E_ARG;
    before = st->emitted;
    for (i = 0; i < n; i++)
        add_input(st, (real)pcm[i] / (real)32768.0, &out, (uint64_t)-1);
    st->n_real += n;
    return (ptrdiff_t)(st->emitted - before);
}

ptrdiff_t lgrin_frontend_flush(void *state, float *out, size_t max_frames)
{
    fe_state *st = (fe_state *)state;
    uint64_t before, total;
    uint32_t i;
    int rc = check_push(st, 0, out, max_frames);
    if (rc != LGRIN_FE_OK)
        return rc;
    before = st->emitted;
    if (st->up) { /* zeros past the end until the ceil(N L / M) outputs are out */
        total = (st->n_real * st->up + st->down - 1) / st->down;
        while (st->n_out < total)
            add_input(st, 0, &out, total);
    }
    total = st->n_out;
    while (st->next_frame * st->hop + st->n_frame <= total) /* zeros finish every whole frame's context */
        add_sample(st, 0, &out);
    if (st->next_frame > 0) { /* the last row, W more times, for the last W frames' deltas */
        real *hist = ARR(st, real, o_hist);
        uint32_t d = st->n_desc;
        for (i = 0; i < st->spec.delta_window; i++) {
            real *row = hist + st->hist_rows * d;
            uint32_t c;
            for (c = 0; c < d; c++)
                row[c] = hist[(st->hist_rows - 1) * d + c];
            add_row(st, row, &out);
        }
    }
    st->flushed = 1;
    return (ptrdiff_t)(st->emitted - before);
}

const char *lgrin_frontend_strerror(int status)
{
    switch (status) {
    case LGRIN_FE_OK: return "ok";
    case LGRIN_FE_E_ARG: return "invalid argument or speech spec";
    case LGRIN_FE_E_RATE: return "input sample rate not supported (1..192000 Hz, at most 1024 resampling phases)";
    case LGRIN_FE_E_SPACE: return "state smaller than lgrin_frontend_state_size()";
    case LGRIN_FE_E_ALIGN: return "state not 8-byte aligned";
    case LGRIN_FE_E_INPUT: return "input contains NaN or infinity";
    case LGRIN_FE_E_OUTPUT: return "output room below lgrin_frontend_max_frames()";
    case LGRIN_FE_E_STATE: return "state not initialised or already flushed";
    default: return "unknown status";
    }
}
