"""Scale-out: the pieces that put several IVR nodes behind one SIP front door.

``kamailio_conf`` renders Kamailio's configuration from ``kamailio_conf/`` (pure); ``kamailio`` runs
it as a process of our own (start, readiness over SIP OPTIONS, stop by pid); ``sip_ping`` is the
OPTIONS probe both use.
"""
