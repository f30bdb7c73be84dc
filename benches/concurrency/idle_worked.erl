%% Memory of processes that worked and were sent a message before waiting
%% (see idle_worked.scm).
-module(idle_worked).
-export([main/1]).

churn(0, Acc) -> length(Acc);
churn(K, Acc) ->
    case length(Acc) > 10 of
        true -> churn(K - 1, []);
        false -> churn(K - 1, [K | Acc])
    end.

loop(0) -> ok;
loop(I) ->
    P = spawn(fun() -> churn(3000, []), receive _ -> ok end, receive _ -> ok end end),
    P ! hello,
    loop(I - 1).

main([NS]) ->
    N = list_to_integer(NS),
    loop(N),
    timer:sleep(1000),
    io:format("(idle ~w)~n", [N]),
    halt().
