%% Paper 7.2: round trips per second between two processes (see pingpong.scm).
-module(pingpong).
-export([main/0]).

pong() -> receive From -> From ! pong, pong() end.

loop(0, _) -> ok;
loop(I, Pong) -> Pong ! self(), receive pong -> ok end, loop(I - 1, Pong).

main() ->
    N = 1000000,
    Pong = spawn(fun pong/0),
    T0 = erlang:monotonic_time(microsecond),
    loop(N, Pong),
    Dt = (erlang:monotonic_time(microsecond) - T0) / 1.0e6,
    io:format("(round-trips-per-second ~w)~n", [round(N / Dt)]),
    halt().
