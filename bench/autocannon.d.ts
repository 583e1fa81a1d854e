// autocannon ships no types (and @types/autocannon lags it): bench/http.ts uses it untyped.
declare module 'autocannon';
