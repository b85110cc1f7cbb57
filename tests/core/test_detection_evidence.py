"""What counts as the client's own complaint: harm, waiting, broken promises; not problem reports,
negations, questions, conditions, other people's feelings, or a thread's old subject."""

from __future__ import annotations

import pytest

from worker.core.detection import Detector, load_signals, sentiment_balance
from worker.domain.mail import ParsedMail
from worker.mail.parse import parse_message


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("This account is not mine and I want it removed from my report.", "harm-to-client"),
        ("I was charged twice for the same invoice this month.", "harm-to-client"),
        ("I never authorised this payment to your company.", "harm-to-client"),
        ("You lost my parcel and now the tracking page shows nothing.", "harm-to-client"),
        ("You told me you would remove it and it is still showing.", "promise-not-kept"),
        ("My suitcase has not arrived after 3 days.", "long-wait"),
        ("I left 6 voicemails and nobody called back.", "unanswered-contact"),
        ("Four emails so far and not a single reply from your team.", "unanswered-contact"),
        ("The portal is down again for the whole office.", "still-not-fixed"),
        ("Where do I lodge a claim against your company for the damaged sofa?", "claim-against-us"),
        ("I want to file a customer claim about the missing pallet.", "claim-against-us"),
        ("I would like to make a reclamation for the wrong colour.", "claim-against-us"),
        ("They charged me twice for the March invoice.", "harm-to-client"),
        ("I have lost all trust in your delivery dates.", "strong-dissatisfaction"),
        ("Your driver mistreated me at my own door.", "disappointment"),
        ("That is not what your advisor said on the phone last week.", "promise-not-kept"),
        ("What are you playing at with these delivery dates?", "exasperation"),
        ("Your collectors keep ringing my office and harassing me.", "treated-wrongly"),
        ("Selling my details on is a violation of my rights to privacy.", "treated-wrongly"),
        ("You opened a second card in my name without my consent.", "treated-wrongly"),
        ("Your bank refused to release the lien after the final payment.", "treated-wrongly"),
        ("I disputed the late fee in April and it was added again in May.", "treated-wrongly"),
        ("The salesman misled me about the length of the contract.", "treated-wrongly"),
        ("Charging a fee to close an account is unfair and deceptive.", "treated-wrongly"),
        ("Your company continues to report the settled loan as overdue.", "treated-wrongly"),
        ("This loan does not belong to me.", "harm-to-client"),
        ("You closed my account without any notice.", "treated-wrongly"),
        ("My line was cut off without warning on Friday.", "treated-wrongly"),
        ("I was never notified that the direct debit had changed.", "treated-wrongly"),
        ("I cannot get anyone to look at the leaking boiler.", "unanswered-contact"),
        ("Nobody can explain the new fees on my bill.", "unanswered-contact"),
        ("We have been trying to get the invoice corrected since March.", "chasing"),
        ("I demand a written explanation for the cut-off.", "escalation-request"),
        ("I have two complaints about the engineer's visit.", "complaint-word"),
        ("I complained last week and nothing has changed.", "complaint-word"),
        ("We sat on the tarmac for two hours with no air.", "long-wait"),
        ("Our internet has been out for three days.", "long-wait"),
        ("It has been almost two weeks and my order has yet to arrive.", "long-wait"),
        ("This is the fourth email I have sent about the same invoice.", "repeated-failure"),
        ("It took five calls to change an address.", "repeated-failure"),
        ("The replacement you sent has the exact same fault.", "repeated-failure"),
        ("The washing machine you installed leaks every time we use it.", "repeated-failure"),
        ("I will not be ordering from you again.", "walking-away"),
        ("We are seriously considering moving to another supplier.", "walking-away"),
        ("If I do not hear back today I will be taking this further.", "taking-it-further"),
        ("You switched my tariff without asking me.", "treated-wrongly"),
        ("My phone bill doubled this month and nobody warned me.", "treated-wrongly"),
        ("The renewal went through even though I turned auto-renew off.", "treated-wrongly"),
        ("I was billed for a licence we cancelled in January.", "harm-to-client"),
        ("The update wiped all my notes overnight.", "harm-to-client"),
        ("A transfer I made on Tuesday has vanished.", "harm-to-client"),
        ("The new fridge arrived dented.", "harm-to-client"),
        ("The parcel came two weeks late.", "long-wait"),
        ("I have been bounced between billing and tech support all afternoon.", "runaround"),
        ("Every time I call I am transferred and then cut off.", "runaround"),
        ("Your policy makes it impossible to speak to a human.", "runaround"),
        ("Your reply did not answer a single one of my questions.", "runaround"),
        ("I expected far better from a company I have used for ten years.", "disappointment"),
        ("We were bumped from a flight we checked in for a day early.", "delay-or-cancellation"),
        ("The engineer's visit fixed nothing.", "still-not-fixed"),
        ("The broadband speed is a fraction of what I am paying for.", "still-not-fixed"),
        ("The front desk said nothing could be done.", "runaround"),
        ("The phone came back with a new crack in the screen.", "harm-to-client"),
        ("Letters to my late father keep arriving, which is distressing.", "disappointment"),
        ("Letters for a closed account keep arriving every week.", "treated-wrongly"),
        ("Both of my requests were closed without a visit.", "no-response"),
        ("The repair company asked me to pay for a part under guarantee.", "harm-to-client"),
        ("Our bills are three times higher than last year for the same use.", "harm-to-client"),
        ("Where are our bags? We landed three hours ago.", "where-is-my"),
        ("My bag didn't make it to Denver.", "harm-to-client"),
        ("Thanks to your incompetence I cannot work until Friday.", "service-criticism"),
        ("Had a really poor shopping experience at your Leeds store.", "service-criticism"),
        ("You just lost my business.", "walking-away"),
        ("Stranded in Leeds because the last train never came.", "delay-or-cancellation"),
        ("Our room was given away although we had paid in full.", "harm-to-client"),
        ("You took the payment twice and need ten days to return it.", "harm-to-client"),
        ("Someone opened a credit card in my name last spring.", "harm-to-client"),
        ("My identity was stolen and the card was used in three shops.", "harm-to-client"),
        ("They reported me late although I was on an approved payment plan.", "harm-to-client"),
        ("After the transfer my autopay stopped and I was marked delinquent.", "harm-to-client"),
        ("The loan servicer lost my application for forgiveness.", "harm-to-client"),
        ("You are charging me interest on a balance I paid off in May.", "harm-to-client"),
        ("The bank will not remove the late payment mark.", "treated-wrongly"),
        ("The company refuses to believe me about the stolen card.", "treated-wrongly"),
        ("My escrow payment went up by $300 with no explanation.", "treated-wrongly"),
        ("My order has been processing for twelve days.", "long-wait"),
        ("We paid for extra legroom and got put in a middle seat.", "harm-to-client"),
        ("The upgrade we paid for disappeared from the booking.", "harm-to-client"),
        ("The steward yelled at my son for crying.", "service-criticism"),
        ("We will never fly with you again after this weekend.", "walking-away"),
        ("No wifi, no food, not even an apology on a six hour flight.", "treated-wrongly"),
        ("They never sent me a validation letter for the debt.", "treated-wrongly"),
        ("The agency is collecting a debt past the statute of limitations.", "treated-wrongly"),
        ("They keep calling my parents about the loan.", "treated-wrongly"),
        ("I was never told that the debt had been sold.", "treated-wrongly"),
        ("My credit score dropped 100 points because of this error.", "harm-to-client"),
        ("The same loan is listed twice on my credit report.", "harm-to-client"),
        ("My report shows an address where I have never lived.", "harm-to-client"),
        ("The balance they report is higher than what I ever owed.", "harm-to-client"),
        ("The hard inquiry was not authorized by me.", "harm-to-client"),
        ("You agreed to delete the entry in May, but it is still there.", "promise-not-kept"),
        ("They agreed to delete the entry in May, but it is still there.", "promise-not-kept"),
        ("The closed account is still being reported on my file.", "promise-not-kept"),
        ("The new dashboard is an absolute joke.", "strong-dissatisfaction"),
        ("You can never get the order right.", "strong-dissatisfaction"),
        ("Two thousand pounds down the drain.", "strong-dissatisfaction"),
        ("Bought it last week. One star, would not recommend.", "strong-dissatisfaction"),
        ("Can't believe how bad these headphones are.", "exasperation"),
        ("Your sales team keeps hassling us with calls.", "treated-wrongly"),
        ("My broadband has dropped out every evening this week.", "repeated-failure"),
        ("The replacement you sent is also faulty.", "repeated-failure"),
        ("The direct debit went up to 95 pounds and nobody explained why.", "treated-wrongly"),
        ("Your insurer rejected my claim on a technicality.", "treated-wrongly"),
        ("Three weeks without a landline and no compensation offered.", "treated-wrongly"),
        ("The claim has been under review for two months.", "long-wait"),
        ("I was billed for a hospital visit that my plan fully covers.", "harm-to-client"),
        ("The pharmacy sent the wrong dosage.", "harm-to-client"),
        ("The invoice charges us for 50 seats but we only have 20 users.", "harm-to-client"),
        ("The meter was read wrong and now I owe 600 pounds.", "harm-to-client"),
        ("The bike arrived with parts missing.", "harm-to-client"),
        ("Your update wiped all of our custom settings.", "harm-to-client"),
        ("Our internet speed is a quarter of what the contract says.", "still-not-fixed"),
        ("Your support team closed my ticket without solving anything.", "no-response"),
        ("Every time I call I have to explain the whole story again.", "runaround"),
        ("The API has been failing for two days and we are losing customers.", "cost-to-client"),
        ("We were promised SSO in Q2; it is now November.", "promise-not-kept"),
        ("Two weeks' notice of a price rise is not how partners are treated.", "treated-wrongly"),
        ("The migration you ran broke every one of our integrations.", "harm-to-client"),
        ("The renewal went through even though we had given notice in writing.", "treated-wrongly"),
        ("We have asked for the incident report three times.", "repeated-failure"),
        ("The data export is missing half of our records.", "harm-to-client"),
        (
            "Our users are locked out and your support line goes straight to voicemail.",
            "unanswered-contact",
        ),
        ("This bug has been open in your tracker for eight months.", "long-wait"),
        ("Support sent an article that has nothing to do with our question.", "runaround"),
        ("The dress for the wedding arrived the day after the wedding.", "harm-to-client"),
        ("I was sent a used phone as new, with someone else's photos on it.", "harm-to-client"),
        ("Your courier marked the parcel as refused; I never refused anything.", "harm-to-client"),
        ("We arrived to find our table given to someone else.", "harm-to-client"),
        ("The sale price was not applied at checkout.", "harm-to-client"),
        ("The parcel was delivered to the wrong address.", "harm-to-client"),
        ("It is not my fault that your courier lost the parcel.", "harm-to-client"),
        ("The receptionist just shrugged.", "service-criticism"),
        ("The mattress sags after three months and you say it is normal wear.", "treated-wrongly"),
        ("The warranty claim was refused because I could not find the box.", "treated-wrongly"),
        ("The box has arrived damaged four months in a row.", "repeated-failure"),
        ("The return costs me twelve pounds.", "cost-to-client"),
        ("I am writing to dispute the following items on my credit report.", "treated-wrongly"),
        ("Under section 609 of the FCRA you must prove these accounts.", "treated-wrongly"),
        ("You failed to conduct a reasonable investigation.", "treated-wrongly"),
        ("The account reports a balance, but the debt was discharged.", "treated-wrongly"),
        ("The following accounts are inaccurate and unverifiable.", "harm-to-client"),
        ("These late payments are being reported in error.", "harm-to-client"),
        ("Please remove these inquiries, I did not apply for credit with them.", "harm-to-client"),
        ("This collection account is a duplicate of another one.", "harm-to-client"),
        ("These accounts were opened fraudulently after a data breach.", "harm-to-client"),
        ("I have never had a late payment on this account.", "harm-to-client"),
        ("The collector wants a debt that I do not owe.", "harm-to-client"),
        ("I have no contract or agreement with this company.", "harm-to-client"),
        ("They added fees that were never part of the original agreement.", "harm-to-client"),
        ("I already paid this debt to the original creditor.", "harm-to-client"),
        ("I requested validation of the debt last month.", "treated-wrongly"),
        ("They called my workplace after I asked them not to.", "treated-wrongly"),
        ("They would not tell me who the original creditor was.", "treated-wrongly"),
        ("Two agencies are trying to collect the same debt.", "treated-wrongly"),
        ("They refuse to provide any proof that I owe this money.", "treated-wrongly"),
        ("They reported it without ever sending me a letter.", "treated-wrongly"),
        ("You clearly did not read my email: the charge is on the old card.", "exasperation"),
        ("Did you even read my message? I asked about the invoice.", "exasperation"),
        ("Your reply does not answer anything I asked.", "exasperation"),
        ("Honestly, your delivery team needs to get their act together.", "exasperation"),
        ("I paid 70 pounds extra because of your mistake.", "cost-to-client"),
        ("The order went out a week late due to an error on your side.", "cost-to-client"),
        ("Your team never followed up after the engineer visit.", "unanswered-contact"),
        ("The salesperson duped us into a two-year contract.", "treated-wrongly"),
        ("I feel cheated by the way this renewal was handled.", "treated-wrongly"),
        ("Now I have to find another provider for the whole office.", "walking-away"),
        ("This is the last time I order from you.", "walking-away"),
        ("Your agent answered once, then never replied again.", "unanswered-contact"),
        ("You can't even fix a simple typo on the invoice.", "exasperation"),
        ("I regret signing up for the annual plan.", "disappointment"),
        ("You are scamming your customers with these fees.", "treated-wrongly"),
        ("The late payment is still being reported to the agencies.", "harm-to-client"),
        ("On the flight our seats were given to other passengers.", "harm-to-client"),
        ("The signature on the proof of delivery is not mine.", "harm-to-client"),
        ("Tracking says it was delivered on Monday, but nothing came.", "harm-to-client"),
        ("Your returns team says they have no record of the sofa I sent back.", "treated-wrongly"),
        ("My father was sold a package he does not need by your salesperson.", "treated-wrongly"),
        ("The returns desk will not refund the 899 pounds.", "treated-wrongly"),
        ("Every time I call I am told the claim is pending.", "runaround"),
        ("The engineer replaced a hose and it leaked again the same evening.", "still-not-fixed"),
        ("Your engineer damaged the wall when fitting the boiler.", "harm-to-client"),
        ("Fees have been taken throughout the freeze you confirmed.", "harm-to-client"),
        ("When I arrived, the shop had no order under my name.", "harm-to-client"),
        ("Neither you nor the courier have replied to my claim.", "unanswered-contact"),
        ("The refund went to my old account even though I updated my details.", "treated-wrongly"),
        ("My credit limit was cut from 5,000 to 500 without notice.", "treated-wrongly"),
        ("Your agent said my payments were applied to another customer's loan.", "harm-to-client"),
        ("The debt is with collectors and affecting my mortgage application.", "harm-to-client"),
        ("Our team has been locked out of the console since the migration.", "long-wait"),
        ("We waited four hours on the hard shoulder for your recovery truck.", "long-wait"),
        ("This is the second month the old seat count has been billed.", "repeated-failure"),
        ("The connection has dropped eleven times since your visit.", "repeated-failure"),
        ("The speed test shows a tenth of the speed in our contract.", "still-not-fixed"),
        ("The brochures arrived with the wrong logo on every page.", "harm-to-client"),
        ("At the clinic there was no appointment for me.", "harm-to-client"),
        ("I paid in April and now get a warning of court action.", "treated-wrongly"),
        ("It renewed at full price even though your page promised a discount.", "treated-wrongly"),
        ("The status is still preparing, four weeks after I paid.", "long-wait"),
        ("I wish to put on record my dissatisfaction with the repair.", "disappointment"),
        ("My internet was cut off over a payment you say is missing.", "treated-wrongly"),
        ("Your courier left my parcel in the recycling bin.", "harm-to-client"),
        ("The report has measurements of a different house.", "harm-to-client"),
        ("The store says the gift card was never activated.", "harm-to-client"),
        ("Your system charged us in dollars instead of euros.", "harm-to-client"),
        (
            "I cancelled the trial in time, but you charged the annual plan anyway.",
            "harm-to-client",
        ),
        ("We had to stand for the first hour of the workshop.", "long-wait"),
        ("The phone came back with a scratched screen.", "harm-to-client"),
        ("It was marked delivered to a locker that does not exist.", "harm-to-client"),
        ("I have paid twice for the same fine because your site timed out.", "harm-to-client"),
        ("The table is not as described: it is plastic, not metal.", "harm-to-client"),
        ("Half of the pieces were missing from the box.", "harm-to-client"),
        ("Our monthly report was sent to another company.", "harm-to-client"),
        ("The fitter left the job half done two weeks ago.", "harm-to-client"),
        ("There was no hot water for the whole stay.", "long-wait"),
        ("The helpline wait was 90 minutes.", "long-wait"),
        ("The support bot keeps sending me the same tracking link.", "runaround"),
        ("The shop will not take it back because the box is open.", "treated-wrongly"),
        ("The fitter does not answer his phone.", "unanswered-contact"),
        ("My premium doubled this year when nothing changed.", "still-not-fixed"),
        ("Since your visit the alarm goes off every night.", "repeated-failure"),
        ("The clerk sold me the wrong adapter.", "harm-to-client"),
        ("Your website says the refund is rejected.", "treated-wrongly"),
        ("My flight was moved forward six hours without any message.", "treated-wrongly"),
        ("The courier said he tried to deliver, but I was home all day.", "harm-to-client"),
        ("The delivery driver damaged our gate post while reversing.", "harm-to-client"),
        (
            "The garage says the oil was not changed even though it is on the invoice.",
            "harm-to-client",
        ),
        (
            "I asked to be removed from your list in April, and I still get your emails.",
            "treated-wrongly",
        ),
        ("We pay twice what the standard plan costs.", "harm-to-client"),
        ("Your team says it is on our side, but nothing here has changed.", "treated-wrongly"),
        ("Your app deducted the monthly fee twice.", "harm-to-client"),
        ("The second payment pushed my account into overdraft.", "harm-to-client"),
        ("The new firmware bricked two of our scanners.", "harm-to-client"),
        ("It arrived late and you refunded only the difference in postage.", "treated-wrongly"),
        ("I am tired of chasing this.", "disappointment"),
        ("The form to change it needs a code sent to that same address.", "runaround"),
        ("Two pay runs have gone out late since we switched.", "repeated-failure"),
        ("The credit is from your overbilling last year.", "harm-to-client"),
        ("You took payment for two tickets but the confirmation shows only one.", "harm-to-client"),
        ("The renewal quoted 620 online, but the amount taken was 845.", "harm-to-client"),
        ("The glasses you sent have the wrong prescription.", "harm-to-client"),
        ("Your update removed the export button we use every day.", "harm-to-client"),
        ("The paint is a different shade from the sample.", "harm-to-client"),
        ("The button was removed with no warning in the release notes.", "treated-wrongly"),
        (
            "Your billing office says to call the insurer, and the insurer says to call you.",
            "runaround",
        ),
        ("The only way to unblock it is a number that does not work from abroad.", "runaround"),
        ("My insurer says the claim was never submitted.", "harm-to-client"),
        ("You blocked my card while I was abroad.", "harm-to-client"),
        ("The letter was sent to an address I left three years ago.", "harm-to-client"),
        ("I have been paying for 500 megabits and the line can only carry 80.", "harm-to-client"),
        ("The tiles arrived in two different batches.", "harm-to-client"),
        ("Our shop has been listed on your map with the wrong opening hours.", "harm-to-client"),
        ("The bill is estimated even though I submit a reading every month.", "treated-wrongly"),
        ("My mobile number was transferred to another person by mistake.", "harm-to-client"),
        ("The shoes split along the sole after two weeks.", "harm-to-client"),
        ("The shop says it is wear and tear.", "harm-to-client"),
        ("Your letter says I owe 400 pounds for a service I never had.", "harm-to-client"),
        ("My statement shows a payment to a company I have never heard of.", "harm-to-client"),
        ("Our conference booking was given to another group on the day.", "harm-to-client"),
        ("Our bill has doubled since the swap to the new meter.", "still-not-fixed"),
        ("We pay for next-day delivery and orders have taken four days.", "harm-to-client"),
        ("Each invoice has a different total for the same service.", "harm-to-client"),
        ("My loyalty points disappeared after your update.", "harm-to-client"),
        ("Your price match promise was refused at the till.", "treated-wrongly"),
        ("The installer did not connect the drain hose and the kitchen flooded.", "harm-to-client"),
        ("I pay for the premium plan but the premium features are still locked.", "harm-to-client"),
        ("We ordered catering for 40 people and food for about 25 arrived.", "harm-to-client"),
        (
            "The screen was replaced at your store and now the touch does not work.",
            "harm-to-client",
        ),
        ("The voice assistant stopped working after your software update.", "harm-to-client"),
        ("The translation has whole paragraphs missing.", "harm-to-client"),
        ("You sent my new card to my neighbour's address.", "harm-to-client"),
        ("I got a fine although my ticket was valid.", "treated-wrongly"),
        (
            "The driver took a much longer route and the fare was twice the estimate.",
            "harm-to-client",
        ),
        (
            "The pool was closed for four months and you kept charging the full fee.",
            "harm-to-client",
        ),
        ("My broadband was switched off a week early.", "harm-to-client"),
        ("Nothing arrived and the tracking has not moved since Monday.", "harm-to-client"),
        ("We are billed even for the users we removed the same day.", "harm-to-client"),
        (
            "Your agent told me to reset the router, and now none of our devices connect.",
            "harm-to-client",
        ),
        ("The discount was in the basket, but the full price was taken.", "harm-to-client"),
        ("Your bank has started charging me for paper statements.", "harm-to-client"),
        ("The builder left rubble in our garden.", "harm-to-client"),
        ("We were double booked with another company for the same room.", "harm-to-client"),
        ("We ordered a green sofa and received a grey one.", "harm-to-client"),
        ("I drove 40 minutes for nothing: the class had been cancelled.", "harm-to-client"),
        (
            "The tickets were resold to someone else and I was turned away at the door.",
            "harm-to-client",
        ),
        ("You published my address after I ticked the box asking you not to.", "treated-wrongly"),
        ("He has not come back despite three promises.", "repeated-failure"),
        ("You said ten days. It has been five weeks and the sale may fall through.", "long-wait"),
        ("The new schedule skipped our street for three weeks in a row.", "harm-to-client"),
        ("Your system emailed our invoices to a customer who left us last year.", "harm-to-client"),
        ("We received only half of the edited photos we were promised.", "harm-to-client"),
        ("The shuttle you advertise was not running.", "treated-wrongly"),
        ("We paid 60 euros for a taxi at midnight.", "harm-to-client"),
        ("Your number leads to a recorded message that the line is closed.", "runaround"),
        ("My policy was renewed with the wrong car on it.", "harm-to-client"),
        ("Support closed my ticket as fixed, but nothing has changed.", "treated-wrongly"),
        ("Thank you for the quick reply, but the refund still has not arrived.", "still-not-fixed"),
        ("We had to stop using your payroll module after the third wrong payslip.", "walking-away"),
        ("Now it is broken and you won't honour the warranty.", "treated-wrongly"),
    ],
)
def test_calmly_stated_harm_is_a_complaint(detector: Detector, text: str, rule: str) -> None:
    result = detector.assess_text(text)
    assert any(r.startswith(rule + " ") for r in result.reasons), result.reasons
    assert result.is_complaint, result.reasons


@pytest.mark.parametrize(
    "text",
    [
        "Please close my account at the end of the month, I am moving abroad.",
        "Could you cancel my subscription from June onwards?",
        "I would like to close my account, thank you for the years of service.",
        "We'd like you to terminate the contract at the renewal date as agreed.",
        "Kindly cancel my account before the next billing date.",
    ],
)
def test_a_polite_request_to_cancel_is_routine_work(detector: Detector, text: str) -> None:
    """Closing an account on request is normal work; a threat to cancel is a complaint."""
    result = detector.assess_text(text)
    assert not any(r.startswith("threat-to-cancel ") for r in result.reasons), result.reasons
    assert not result.is_complaint, result.reasons


@pytest.mark.parametrize(
    "text",
    [
        "Our legal team needs a copy of your data processing agreement.",
        "Please forward this to your legal department for signature.",
        "Our lawyers have a few comments on clause 7 of the contract.",
        "The court date for our customer's case is next week; we need the call logs.",
        "We are being sued by a former employee and need the access logs.",
        "The voltage regulator in the unit is rated for 12 volts.",
        "Please cancel order 5512, I ordered the wrong colour by mistake.",
        "The delivery was delayed by the snow, no worries, it came today.",
        "Can you add a field for the complaint category in the export?",
        "The new complaint form works great, thanks.",
        "We received a complaint from one of our users that the widget loads slowly.",
        "Any complaints or questions, just let me know.",
        "I have been using your app for a month and I love it.",
        "We will be away for two weeks from Friday, please pause deliveries.",
        "Can I extend the trial for a week?",
        "Try the premium plan free for a month.",
        "We are considering moving our second office onto the same plan.",
        "I am thinking about switching the billing to annual, what is the price?",
        "The ball bounced between the posts as our team celebrated.",
        "Please book the same engineer as last time, he was great.",
        "Even though I paid by card, can I get the receipt as a PDF?",
        "We expected more users this month, so please add ten seats.",
        "It took two calls to set up but now it works well.",
        "Please take this further with your product team as a feature request.",
        "I tried my old password too many times and now I am locked out.",
        "Are you frustrated with slow replies? Our assistant halves your waiting times.",
        "Nothing has changed on our side, so the old settings still apply.",
        "The migration took two weeks, as planned, thanks to your team.",
        "The laptop came back with a new battery fitted, thanks.",
        "Where is my order 5512?",
        "Where is the nearest baggage desk at the airport?",
        "The last episode of the series is the worst of the year.",
        "In my last job I handled angry customers, escalations and outages for three years, "
        "and I was the one who called clients back when nobody else would.",
        "Could you send me a copy of the signed consent form?",
        "Our firewall flagged a policy violation when we installed the agent.",
        "We refused the delivery because nobody ordered it; please arrange a pickup.",
        "Please continue to send the invoices to the accounts address.",
        "Prices on the renewal page are subject to change without notice.",
        "The trial may be ended without prior notice, says your page.",
        "We had enough seats for everyone at the training, thanks.",
        "I accidentally deleted my files; please restore them from last night's backup.",
        "We lost our notes when we reinstalled, so please resend the setup guide.",
        "I won't remove the old integration until the new one is live.",
        "We offer identity theft cover as an add-on; could you list it on the invoice?",
        "We paid for the annual plan but would like to switch to monthly billing.",
        "I paid for the upgrade and got the confirmation straight away, thanks.",
        "I will never use the old export again now that the new one exists, great work.",
        "Never shopping anywhere else, you are the best.",
        "No apology needed, it was my mistake.",
        "Our NPS score dropped this quarter, can you help us read the survey?",
        "The dashboard still appears blank after the update.",
        "We never worked with a reseller before, so how does the partner plan work?",
        "My mum keeps calling me to ask how to use the app, could you send a simple guide?",
        "You agreed to refund me and the money arrived today, thank you.",
        "Your docs say it is not recommended to run two instances, so we run one.",
        "Can't believe how good the new update is!",
        "Sorry to hassle you again, but could you send the invoice?",
        "The newsletter goes out every week on Monday.",
        "The courier drops off every Monday at nine.",
        "I sent you the wrong file yesterday, here is the right one.",
        "We had to explain the new process to the team again, so please send the slides.",
        "Please bill us for 50 seats from next month, as we are hiring.",
        "The replacement arrived today and works perfectly, thank you.",
        "The SSO rollout was scheduled for Q2, and it is now live for all our users, thanks.",
        "We broke our staging environment ourselves, so please restore yesterday's backup.",
        "We asked three times for a demo before buying and each one was great.",
        "The export is missing the new custom field; is that expected?",
        "Our ticket has been open for a day, no rush, just checking it is in the queue.",
        "This is how we treat our own partners, and we love working with you.",
        "We won three times in a row at the quiz, thanks for sponsoring!",
        "Your agent told me it is normal for the first charge to be higher, that makes sense.",
        "Please forward this to someone else's team if it is not yours.",
        "I lost the paperwork you sent, could you send it again?",
        "This ticket is a duplicate of #4411, please close it.",
        "The docs have incorrect information about the export endpoint.",
        "I failed to upload the file twice because of my proxy, fixed now.",
        "We did not apply for the grant this year, so please remove the form.",
        "The battery was discharged when it arrived; is that normal?",
        "Does your product help with FCRA compliance for our background checks?",
        "I would like to dispute a transaction from last Friday; what are the steps?",
        "We have no contract with the new supplier yet, so please hold the order.",
        "Please don't call my workplace, use my mobile instead.",
        "I already paid the invoice by card, so please send a receipt.",
        "We'd like to escalate our plan to enterprise next quarter.",
        "How do I configure the escalation policy for the on-call rotation?",
        "Can your tool auto-escalate alerts after 10 minutes?",
        "Costs are escalating for everyone this year, so we are reviewing budgets.",
        "The ticket got escalated and resolved quickly, thanks.",
        "Did you read the release notes yet? The new export is in there.",
        "If this doesn't answer your question, just reply to this email.",
        "Sorry, I didn't answer your question yesterday: the invoice is attached.",
        "We need to get our act together on the onboarding docs before the launch.",
        "The charge was due to an error on my side, all sorted now.",
        "I never replied to your survey, sorry; here are my answers.",
        "If you never replied to the invitation, it expires on Friday.",
        "The magician duped the whole audience, great show by your venue.",
        "We are going to find a new provider for our phones, can you port the numbers?",
        "This is the last time I will bother you today: what is the VAT number?",
        "Last time I ordered from you it came in two days, so I am ordering again.",
        "I then never replied because the issue went away on its own.",
        "I can't even fix a bike, so your repair shop was a lifesaver.",
        "You won't regret upgrading, the new plan is great.",
        "Fraudsters are scamming customers with fake texts in your name, just so you know.",
        "The old laptops were given to another school as a donation.",
        "The amounts are still being reported in the old currency; is there a setting for that?",
        "Am I still being charged for the old plan?",
        "The tracking says delivered, but could you tell me which door it was left at?",
        "I have no record of the invoice you mention, could you resend it?",
        "Every time I call I am told something helpful by your team, thank you.",
        "The storm damaged our roof. Please send the claim form.",
        "Payments have been taken during the holiday, as agreed, thanks.",
        "There is no booking under my name yet, can I book by phone?",
        "Neither of us has replied to the survey yet.",
        "When the shop has no order under my name, can I pay at the counter?",
        "Can the plan be changed without notice to the users?",
        "I sent the parcel to the wrong address by mistake, can you redirect it?",
        "The agent ended the call after solving everything, great service.",
        "The account has been set up in my name as requested, thank you.",
        "I have been unable to find the setting since the redesign, where is it now?",
        "We spent two days testing the new version and it looks great.",
        "This is the second month that we use the new plan and we love it.",
        "The letter mentions a warning of court action, is that a standard template?",
        "I have taken the day off on Friday, so any time works for the engineer.",
        "The claim is still under review, I understand; I just wanted to add a photo.",
        "The repair took two days instead of the five you quoted, great job.",
        "Please use the address details for a different property: our new office.",
        "We would like to be invoiced in euros instead of dollars from January.",
        "If I cancel today, will I be charged anyway?",
        "I work from home, so deliveries any time are fine.",
        "I am writing once again to say thank you for the quick fix.",
        "I accidentally paid twice, could you refund one of the payments?",
        "The dress looks exactly as pictured, thank you!",
        "Please send the invoice to another company address: our head office.",
        "I don't answer my phone at work, please email me instead.",
        "The wait was 5 minutes, very quick, thanks.",
        "Our rent has doubled since 2015 when we moved in, so we need a smaller office.",
        "Please keep sending us the same weekly report.",
        "The alarm beeps every night at 2am; how do I change the battery?",
        "Is my return rejected if it arrives a day late?",
        "The gate post was damaged by the storm; can your driver use the side entrance?",
        "I asked to be removed from the list and I no longer get the emails, thanks.",
        "Your team says the issue is on our side, and they were right: our firewall blocked it.",
        "The extra items are on the invoice, but I approved them by phone, so all is fine.",
        "The direct debit is taken twice a year, in March and September, is that right?",
        "I bricked my old phone myself trying a custom update, can you recycle it?",
        "The manager promised to call me back by Friday and she did, thank you.",
        "Can you send the code to the same number as before?",
        "We ordered two boxes but only one is needed now, can we cancel the other?",
        "You quoted 620 pounds, but is the amount taken monthly or yearly?",
        "You removed the old button we used, and the new menu is much better, thanks.",
        "The new release ships with no warning dialogs, as we asked.",
        "Could you mix the same shade as the sample we bought last year?",
        "The form was never submitted, can I submit it now?",
        "I moved from the flat I left in May, please update my address.",
        "The link that does not work is the second one in your email; the first is fine.",
        "We have been paying for the premium plan and can only say good things about it.",
        "The tiles arrived in two different colours as we ordered, thanks.",
        "The old kettle broke after five years, so I would like to order a new one.",
        "Your team said it is normal for the light to blink during the update, thanks.",
        "The product is listed with the wrong price on your site, I thought you should know.",
        "Our number was ported to another provider as we asked, all good.",
        "We pay for express delivery and it always arrives the next morning, great.",
        "Is the price match promise valid for online prices?",
        "Our bill has doubled since the new office opened, as we expected with the extra staff.",
        "I did not connect the drain hose yet, is that needed before the first wash?",
        "We pay for the basic plan but would like to know if the reports are included.",
        "We ordered 40 boxes and 40 arrived, thank you.",
        "The app stopped working after the update, how do I reinstall it?",
        "Some pages are missing from my download, can you resend it?",
        "Please send my new card to my old address until Friday.",
        "I'm still waiting to hear which date suits your technician, no rush.",
        "I made a mistake and paid invoice 3321 twice. Could you refund the extra payment?",
        "Will you keep charging the same price next year?",
        "The order was moved a week early at our request, thank you.",
        "You told me to restart the router and now everything works, thanks.",
        "Will I be charged the full price if I cancel before the start?",
        "Please make sure the room is not double-booked for Friday.",
        "We ordered the blue sofa and received the blue one, lovely, thank you.",
        "I got the upgrade for nothing as a loyal customer, thank you!",
        "You have started charging for paper statements; can I switch to online?",
        "Can we add a second email address for sending invoices to a customer?",
        "It has been two weeks since we spoke; how is the project going?",
        "We won the regional award three years in a row, thanks to your software!",
        "I paid 60 euros for a taxi; can I claim it on my travel policy?",
        "I think I registered with the wrong email address, can you change it?",
        "You closed my ticket but I have one more question about the invoice.",
        "Since the update the export shows error 54; the same error appears with every file.",
        "It asks for a code sent to my old number, which I no longer have. How do I update it?",
        "We ourselves supplied the wrong phone number on the back; could you quote a reprint?",
        "We had to stop using the old API key after the rotation; the new one works.",
    ],
)
def test_routine_mail_in_a_complaints_words_is_not_a_complaint(
    detector: Detector, text: str
) -> None:
    """Lawyers, courts, consent forms and wrong orders turn up in everyday support mail."""
    result = detector.assess_text(text)
    assert not result.is_complaint, result.reasons


@pytest.mark.parametrize(
    ("text", "rule", "severity"),
    [
        ("If this is not sorted by Friday I will be taking legal action.", "legal-threat", "sev1"),
        ("Our lawyers will be in touch.", "legal-threat", "sev1"),
        ("You will be hearing from my solicitor.", "legal-threat", "sev1"),
        ("I have spoken to a lawyer about the missing deposit.", "legal-threat", "sev1"),
        ("We are reporting you to the regulator.", "legal-threat", "sev1"),
        ("I will take you to the small claims court.", "legal-threat", "sev1"),
        ("I am going to the ombudsman with this.", "legal-threat", "sev1"),
        ("I will sue you for the cost of the repairs.", "legal-threat", "sev1"),
        ("I contacted the attorney general about the repeated charges.", "legal-threat", "sev1"),
        ("We have filed a complaint with the regulator.", "legal-threat", "sev1"),
        ("We have retained an attorney.", "legal-threat", "sev1"),
        ("If this is not fixed by Monday I am going to the press.", "going-public", "sev1"),
        ("I will share this on social media and warn other customers.", "going-public", "sev1"),
        ("Cancel my account, I have no time for this any more.", "threat-to-cancel", "sev2"),
        ("If this is not fixed by Friday we will cancel the contract.", "threat-to-cancel", "sev2"),
        ("After this week I will close my account.", "threat-to-cancel", "sev2"),
        ("Could you escalate this ticket to the second line?", "escalation-request", "sev2"),
        ("I want this escalated to a manager today.", "escalation-request", "sev2"),
        ("I am requesting a formal escalation of case 4411.", "escalation-request", "sev2"),
        ("This has to be escalated, nobody reads my mails.", "escalation-request", "sev2"),
        ("I want to speak to a manager.", "escalation-request", "sev2"),
    ],
)
def test_a_threat_sets_the_severity_at_least(
    detector: Detector, text: str, rule: str, severity: str
) -> None:
    """Legal action and going public are sev1 at once; a threat to cancel or an escalation
    asked for is sev2 at least."""
    result = detector.assess_text(text)
    assert any(r.startswith(rule + " ") for r in result.reasons), result.reasons
    assert result.severity is not None, result.reasons
    assert result.severity <= severity, result.reasons  # "sev1" < "sev2": the worse


@pytest.mark.parametrize(
    "text",
    [
        "I get an error when I log in.",
        "The app won't open on my new phone.",
        "Our nightly export crashed with the attached stack trace.",
        "There is a problem with invoice 4411: the VAT line is missing.",
        "How do I get a refund for the unused licence?",
        "Is the site down? I cannot reach the dashboard.",
        "How do I make a warranty claim for the cracked screen?",
        "Please send the insurance claim form for the courier.",
        "How do I dispute a charge on my statement?",
        "My card was refused at the checkout this morning, can you check it?",
    ],
)
def test_a_plain_problem_report_is_normal_work(detector: Detector, text: str) -> None:
    """A support inbox is full of problem reports; they are not complaints about us."""
    result = detector.assess_text(text)
    assert not result.is_complaint, result.reasons


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("I am not disappointed at all, the new plan suits us.", "disappointment"),
        ("No complaints from our side this quarter.", "complaint-word"),
        ("If you have a complaint about a driver, where do we send it?", "complaint-word"),
        ("My colleague is furious with her landlord, not with the service.", "disappointment"),
        ("If the payment is charged twice, will the second one be returned?", "harm-to-client"),
        ("Was the order charged twice?", "harm-to-client"),
        ("We never had to file a customer claim with you in ten years.", "claim-against-us"),
        ("If a parcel is lost, do we file a claim against the courier?", "claim-against-us"),
        ("Is that not what your advisor said about the upgrade?", "promise-not-kept"),
        ("Nobody has ever harassed us about a late invoice, thank you.", "treated-wrongly"),
        ("Would it be a breach of the agreement if we moved the server?", "treated-wrongly"),
        ("If the courier refused to take the parcel, who pays for the return?", "treated-wrongly"),
        ("My neighbour says the landlord misled her about the deposit.", "treated-wrongly"),
        ("In my last job I calmed angry customers every day.", "disappointment"),
        ("Frustrated users of our app ask us for dark mode.", "disappointment"),
        ("My colleague says the bank lost her application twice.", "harm-to-client"),
    ],
)
def test_words_that_are_not_the_clients_own_complaint_do_not_fire(
    detector: Detector, text: str, rule: str
) -> None:
    result = detector.assess_text(text)
    assert not any(r.startswith(rule + " ") for r in result.reasons), result.reasons
    assert not result.is_complaint, result.reasons


def test_a_conditional_threat_still_counts(detector: Detector) -> None:
    """'If this is not fixed we will cancel' is a threat, not a hypothetical question."""
    result = detector.assess_text("If this is not fixed by Friday we will cancel the contract.")
    assert result.is_complaint
    assert result.severity in ("sev1", "sev2")


def test_a_third_party_complaining_about_us_still_counts(detector: Detector) -> None:
    result = detector.assess_text("My manager is furious that your service was down all day.")
    assert any(r.startswith("disappointment ") for r in result.reasons), result.reasons


def test_invisible_characters_inside_words_are_read_through(detector: Detector) -> None:
    """Text pasted from a document keeps its soft hyphens and zero-width spaces."""
    text = "I was charged twice and the re\u00adfund you pro\u200bmised never ar\u2060rived."
    result = detector.assess_text(text)
    assert any(r.startswith("money-back ") and "refund" in r for r in result.reasons), result
    assert result.is_complaint


def test_sentiment_is_scaled_by_length() -> None:
    sentiment = load_signals().sentiment
    assert sentiment is not None
    short = "The delay was bad and the manual is wrong."
    long = " ".join([short] + ["The meeting is on Tuesday at the office."] * 40)
    assert sentiment_balance(long, sentiment) > sentiment_balance(short, sentiment)
    # Past SENTIMENT_WORDS, more of the same mood does not weigh more.
    assert sentiment_balance(short * 30, sentiment) == pytest.approx(
        sentiment_balance(short * 60, sentiment)
    )


def test_emoticons_and_angry_emoji_carry_a_mood() -> None:
    sentiment = load_signals().sentiment
    assert sentiment is not None
    plain = "The kiosks are out again at the airport"
    assert sentiment_balance(plain, sentiment) == 0
    assert sentiment_balance(plain + " :(", sentiment) < 0
    assert sentiment_balance(plain + " \U0001f621", sentiment) < sentiment_balance(
        plain + " :(", sentiment
    )
    # A smiley in brackets is no frown: "(see the photo :)" reads nothing.
    assert sentiment_balance(plain + " (see photo :)", sentiment) == 0


def reply(
    subject: str, body: str, *, headers: str = "In-Reply-To: <first@client.example>\r\n"
) -> ParsedMail:
    raw = (
        f"From: ann@client.example\r\nTo: support@acme.example\r\nSubject: {subject}\r\n"
        f"Message-ID: <second@client.example>\r\n{headers}\r\n{body}\r\n"
    )
    return parse_message(raw.encode())


def test_a_reply_is_scored_on_what_the_client_wrote_now(detector: Detector) -> None:
    angry_subject = "Re: Unacceptable outage, still not fixed!!"
    calm = detector.assess(reply(angry_subject, "Thanks, all good now."))
    assert not calm.is_complaint, calm.reasons
    angry = detector.assess(reply(angry_subject, "It is down again. This is unacceptable."))
    assert angry.is_complaint
    forwarded = detector.assess(reply("Fwd: Terrible service", "FYI, for the archive."))
    assert not forwarded.is_complaint


def test_a_new_mail_is_scored_on_its_subject_too(detector: Detector) -> None:
    result = detector.assess(reply("Unacceptable: charged twice", "See the statement.", headers=""))
    assert result.is_complaint
