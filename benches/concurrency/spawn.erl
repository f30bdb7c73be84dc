%% Spawning 1,000,000 processes that exit at once (see spawn.scm).
-module(spawn).
-export([main/0]).

loop(0) -> ok;
loop(I) -> spawn(fun() -> done end), loop(I - 1).

main() ->
    T0 = erlang:monotonic_time(microsecond),
    loop(1000000),
    io:format("(spawn-seconds ~f)~n", [(erlang:monotonic_time(microsecond) - T0) / 1.0e6]),
    halt().
