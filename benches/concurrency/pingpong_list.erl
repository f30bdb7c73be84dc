%% Ping-pong with structured messages (see pingpong_list.scm): lists, as in
%% the Scheme version.
-module(pingpong_list).
-export([main/0]).

pong() -> receive [From, I] -> From ! [pong, I], pong() end.

loop(0, _) -> ok;
loop(I, Pong) -> Pong ! [self(), I], receive [pong, _] -> ok end, loop(I - 1, Pong).

main() ->
    N = 1000000,
    Pong = spawn(fun pong/0),
    T0 = erlang:monotonic_time(microsecond),
    loop(N, Pong),
    Dt = (erlang:monotonic_time(microsecond) - T0) / 1.0e6,
    io:format("(round-trips-per-second ~w)~n", [round(N / Dt)]),
    halt().
