%% Erlang/OTP distribution over loopback, the reference for termitec's
%% two-node benchmarks (benches/run.py --dist). Start the serving node with
%%   erl -name pong@127.0.0.1 -setcookie C -noshell -pa DIR
%% and then the measuring one with
%%   erl -name ping@127.0.0.1 -setcookie C -noshell -pa DIR \
%%       -run dist_bench main pong@127.0.0.1 WHAT N
%% WHAT: pingpong (N round trips), oneway (N small messages), big (a
%% message of N MB while another process pings). Prints an s-expression of
%% numbers, then halts both nodes.
-module(dist_bench).
-export([main/1, echo/0, sink/1]).

echo() ->
    receive
        {From, M} -> From ! M, echo();
        stop -> ok
    end.

sink(0) -> receive {From, done} -> From ! done end;
sink(N) -> receive _ -> sink(N - 1) end.

now_s() -> erlang:monotonic_time(nanosecond) / 1.0e9.

connect(Node) ->
    T0 = now_s(),
    pong = net_adm:ping(Node),
    now_s() - T0.

ping_loop(_, 0) -> ok;
ping_loop(P, N) -> P ! {self(), x}, receive x -> ping_loop(P, N - 1) end.

oneway(_, 0) -> ok;
oneway(P, N) -> P ! {x, N}, oneway(P, N - 1).

%% Pings P every millisecond until told to stop; answers the worst round trip.
pinger(P, Worst, Parent) ->
    receive stop -> Parent ! {worst, Worst}
    after 1 ->
        T0 = now_s(),
        P ! {self(), ping},
        receive ping -> ok end,
        pinger(P, max(Worst, now_s() - T0), Parent)
    end.

main([NodeS, What, NS]) ->
    Node = list_to_atom(NodeS),
    N = list_to_integer(NS),
    Connect = connect(Node),
    Echo = spawn(Node, dist_bench, echo, []),
    ping_loop(Echo, 1000),
    case What of
        "pingpong" ->
            T0 = now_s(),
            ping_loop(Echo, N),
            T = now_s() - T0,
            io:format("(round-trips-per-second ~p connect-s ~p)~n", [round(N / T), Connect]);
        "oneway" ->
            Sink = spawn(Node, dist_bench, sink, [N]),
            T0 = now_s(),
            oneway(Sink, N),
            Sink ! {self(), done},
            receive done -> ok end,
            T = now_s() - T0,
            io:format("(messages-per-second ~p)~n", [round(N / T)]);
        "big" ->
            Big = binary:copy(<<"x">>, N * 1000000),
            Me = self(),
            %% Its own echo: the big reply must not delay its pings.
            Echo2 = spawn(Node, dist_bench, echo, []),
            ping_loop(Echo2, 10),
            Pinger = spawn(fun() -> pinger(Echo2, 0.0, Me) end),
            T0 = now_s(),
            Echo ! {self(), {big, Big}},
            receive {big, B} when byte_size(B) =:= byte_size(Big) -> ok end,
            T = now_s() - T0,
            Pinger ! stop,
            W = receive {worst, X} -> X end,
            %% There and back: twice the bytes.
            io:format("(mb-per-second ~p worst-ping-ms ~p)~n", [round(2 * N / T), W * 1000])
    end,
    Echo ! stop,
    rpc:cast(Node, erlang, halt, []),
    halt().
