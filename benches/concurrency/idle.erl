%% Memory of idle processes (see idle.scm).
-module(idle).
-export([main/1]).

loop(0) -> ok;
loop(I) -> spawn(fun() -> receive _ -> ok end end), loop(I - 1).

main([NS]) ->
    N = list_to_integer(NS),
    loop(N),
    timer:sleep(1000),
    io:format("(idle ~w)~n", [N]),
    halt().
