"""Reference data for the demo seeder: names, cities, email domains, products, festival dates.

Kept apart from `seed.py` so the generator reads as logic, not as lists.
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

# fmt: off
# Data tables are laid out by hand for reading; the formatter would put one name per line.


class NameGroup(NamedTuple):
    language: str  # ISO 639-1 code of the group's regional language
    male: tuple[str, ...]
    female: tuple[str, ...]
    last: tuple[str, ...]


NAME_GROUPS: dict[str, NameGroup] = {
    "north": NameGroup(
        "hi",
        ("Rahul", "Amit", "Rohit", "Vikas", "Ankit", "Saurabh", "Abhishek", "Nikhil", "Gaurav",
         "Harsh", "Aman", "Arjun", "Kunal", "Varun", "Manish", "Deepak", "Rajesh", "Sanjay",
         "Aditya", "Yash", "Karan", "Mohit", "Siddharth", "Vivek", "Ayush", "Shubham", "Pankaj"),
        ("Priya", "Neha", "Pooja", "Anjali", "Shweta", "Ritu", "Sakshi", "Nidhi", "Ankita",
         "Simran", "Kavya", "Aditi", "Divya", "Shruti", "Tanvi", "Ishita", "Megha", "Swati",
         "Komal", "Muskan", "Riya", "Sonam", "Preeti", "Garima", "Nupur", "Vandana"),
        ("Sharma", "Verma", "Gupta", "Singh", "Agarwal", "Malhotra", "Kapoor", "Chauhan", "Yadav",
         "Mishra", "Tiwari", "Srivastava", "Saxena", "Bansal", "Khanna", "Arora", "Chopra",
         "Bhatia", "Sethi", "Pandey", "Tripathi", "Rathore", "Shekhawat", "Dubey", "Jain", "Goyal",
         "Mittal", "Rastogi"),
    ),
    "punjabi": NameGroup(
        "pa",
        ("Harpreet", "Gurpreet", "Jaspreet", "Manpreet", "Amandeep", "Harjeet", "Navdeep",
         "Sukhwinder", "Kabir", "Parminder", "Ravneet", "Inderjit"),
        ("Jasleen", "Harleen", "Simran", "Navneet", "Gurleen", "Amrit", "Manjot", "Rupinder",
         "Kiranjeet", "Sukhmani", "Prabhleen", "Mehak"),
        ("Dhillon", "Gill", "Sandhu", "Grewal", "Sidhu", "Brar", "Bajwa", "Kohli", "Ahluwalia",
         "Randhawa", "Chahal", "Sodhi"),
    ),
    "marathi": NameGroup(
        "mr",
        ("Omkar", "Sachin", "Prathamesh", "Tejas", "Aniket", "Sagar", "Mandar", "Swapnil",
         "Akshay", "Ninad", "Chinmay", "Rohan", "Sameer", "Ajinkya", "Shantanu", "Hrishikesh"),
        ("Sayali", "Rutuja", "Pranali", "Ashwini", "Madhura", "Gauri", "Snehal", "Manasi",
         "Tejaswini", "Shraddha", "Aarti", "Vaishnavi", "Mrunal", "Ketaki", "Sukanya"),
        ("Patil", "Deshmukh", "Kulkarni", "Joshi", "Deshpande", "Jadhav", "Pawar", "Shinde",
         "Gokhale", "Kale", "More", "Chavan", "Bhosale", "Sawant", "Naik", "Gaikwad", "Apte",
         "Phadke", "Karandikar"),
    ),
    "gujarati": NameGroup(
        "gu",
        ("Hardik", "Jignesh", "Chirag", "Bhavin", "Nirav", "Parth", "Dhruv", "Jay", "Keval",
         "Mihir", "Ronak", "Hiren", "Kalpesh", "Tushar", "Pratik"),
        ("Hetal", "Krupa", "Dhara", "Nisha", "Khushi", "Jinal", "Foram", "Riddhi", "Bhoomi",
         "Mansi", "Urvi", "Pinal", "Drashti", "Kinjal", "Zalak"),
        ("Patel", "Shah", "Mehta", "Desai", "Parikh", "Trivedi", "Modi", "Thakkar", "Amin", "Vyas",
         "Bhatt", "Panchal", "Gandhi", "Kothari", "Doshi", "Vora", "Dave"),
    ),
    "tamil": NameGroup(
        "ta",
        ("Karthik", "Arun", "Vignesh", "Senthil", "Prakash", "Dinesh", "Ganesh", "Bala",
         "Saravanan", "Hari", "Ashwin", "Pradeep", "Surya", "Vijay", "Madhavan", "Raghu"),
        ("Lakshmi", "Meena", "Divya", "Priyanka", "Keerthana", "Nandhini", "Revathi",
         "Sangeetha", "Kavitha", "Janani", "Aishwarya", "Deepika", "Gayathri", "Harini",
         "Abinaya", "Vidya"),
        ("Iyer", "Iyengar", "Krishnan", "Subramanian", "Rajan", "Natarajan", "Venkatesan",
         "Murugan", "Raman", "Sundaram", "Balasubramanian", "Chandrasekaran", "Ramasamy",
         "Karthikeyan", "Selvam", "Arumugam"),
    ),
    "telugu": NameGroup(
        "te",
        ("Srinivas", "Venkat", "Sai", "Ravi", "Mahesh", "Naveen", "Kiran", "Suresh", "Praveen",
         "Chaitanya", "Harsha", "Teja", "Vamsi", "Anil", "Krishna", "Lokesh"),
        ("Swathi", "Sravani", "Lavanya", "Sirisha", "Bhavana", "Sowmya", "Mounika", "Keerthi",
         "Anusha", "Haritha", "Pavani", "Sindhu", "Navya", "Deepthi", "Spandana"),
        ("Reddy", "Rao", "Naidu", "Chowdary", "Varma", "Raju", "Goud", "Prasad", "Murthy",
         "Setty", "Sastry", "Rayudu", "Kondapalli", "Gummadi"),
    ),
    "kannada": NameGroup(
        "kn",
        ("Manjunath", "Raghavendra", "Prajwal", "Darshan", "Shreyas", "Nagaraj", "Sudeep",
         "Puneeth", "Santosh", "Chethan", "Girish", "Abhay", "Pavan"),
        ("Sahana", "Shwetha", "Pallavi", "Rashmi", "Spoorthi", "Ananya", "Chaitra", "Deepa",
         "Kavya", "Shilpa", "Sinchana", "Varsha", "Bhoomika"),
        ("Gowda", "Hegde", "Shetty", "Bhat", "Kamath", "Nayak", "Shenoy", "Acharya", "Prabhu",
         "Pai", "Kini", "Urs", "Adiga"),
    ),
    "malayalam": NameGroup(
        "ml",
        ("Anoop", "Arjun", "Jithin", "Nithin", "Vishnu", "Sreejith", "Akhil", "Abhilash",
         "Sanju", "Midhun", "Arun", "Renjith", "Sarath"),
        ("Aparna", "Athira", "Lekshmi", "Reshma", "Sreelakshmi", "Nimisha", "Anu", "Gopika",
         "Neethu", "Aswathy", "Meera", "Anjana", "Parvathy"),
        ("Nair", "Menon", "Pillai", "Panicker", "Namboothiri", "Warrier", "Kurup", "Nambiar",
         "Kutty", "Unnikrishnan", "Madhavan"),
    ),
    "bengali": NameGroup(
        "bn",
        ("Arnab", "Sourav", "Debashish", "Anirban", "Subhajit", "Rajdeep", "Sayan", "Tanmoy",
         "Indranil", "Abhijit", "Soumya", "Ritwik", "Pritam", "Sudipto"),
        ("Moumita", "Rituparna", "Debjani", "Sohini", "Paromita", "Tanushree", "Sreya",
         "Ishani", "Payel", "Madhumita", "Swagata", "Puja", "Mousumi", "Ananya"),
        ("Banerjee", "Chatterjee", "Mukherjee", "Ghosh", "Bose", "Das", "Sen", "Dutta", "Roy",
         "Chakraborty", "Bhattacharya", "Sarkar", "Majumdar", "Ganguly", "Saha", "Basu"),
    ),
    "odia": NameGroup(
        "or",
        ("Subrat", "Manas", "Bikash", "Debasis", "Sambit", "Prasanta", "Soumya", "Ashutosh"),
        ("Subhashree", "Ipsita", "Sasmita", "Lipsa", "Priyadarshini", "Smruti", "Sonali"),
        ("Mohanty", "Patnaik", "Panda", "Sahoo", "Behera", "Mishra", "Nayak", "Swain", "Dash"),
    ),
    "assamese": NameGroup(
        "as",
        ("Jyotirmoy", "Bhaskar", "Pranjal", "Dhruba", "Hiranya", "Bidyut", "Rituraj"),
        ("Bhargavi", "Pallabi", "Nilakshi", "Jahnavi", "Tridisha", "Gitanjali", "Rimjhim"),
        ("Barua", "Gogoi", "Bora", "Kalita", "Hazarika", "Saikia", "Baruah", "Deka", "Phukan"),
    ),
    "muslim": NameGroup(
        "ur",
        ("Mohammed", "Imran", "Faisal", "Arif", "Salman", "Zaid", "Irfan", "Aamir", "Rehan",
         "Tariq", "Junaid", "Adil", "Faraz", "Owais"),
        ("Ayesha", "Fatima", "Sana", "Zoya", "Nazia", "Heena", "Rukhsar", "Farah", "Alina",
         "Mehreen", "Shabana", "Sadia", "Iqra", "Afreen"),
        ("Khan", "Ahmed", "Sheikh", "Qureshi", "Siddiqui", "Ansari", "Hussain", "Mirza", "Syed",
         "Rizvi", "Pathan", "Shaikh", "Farooqui", "Kazmi"),
    ),
    "christian": NameGroup(
        "en",
        ("Joel", "Ryan", "Clinton", "Neil", "Aaron", "Allan", "Jerome", "Kevin", "Glen", "Tony",
         "Jose", "Sebastian"),
        ("Sharon", "Ria", "Melissa", "Andrea", "Natasha", "Sonia", "Tina", "Joanna", "Ann",
         "Elizabeth", "Merlin", "Anita"),
        ("D'Souza", "Fernandes", "Pereira", "Rodrigues", "D'Costa", "Pinto", "Lobo", "Gomes",
         "Dias", "Menezes", "Thomas", "Varghese", "Joseph", "Mathew", "Kurian", "George"),
    ),
}


class City(NamedTuple):
    name: str
    state: str
    weight: float  # roughly the city's share of an online consumer brand's buyers
    groups: dict[str, float]  # who lives there, by name group (the rest: anyone)


# Weighted by size; each city mixes its own communities with people who moved in.
CITIES: tuple[City, ...] = (
    City("Mumbai", "Maharashtra", 16, {"marathi": 4, "gujarati": 2, "north": 1.5, "muslim": 1.2,
                                       "christian": 0.6, "punjabi": 0.4}),
    City("Delhi", "Delhi", 15, {"north": 5, "punjabi": 2, "muslim": 0.8, "bengali": 0.4}),
    City("Bengaluru", "Karnataka", 13, {"kannada": 3, "tamil": 1.2, "telugu": 1.2,
                                        "malayalam": 1, "north": 1.2, "christian": 0.4}),
    City("Hyderabad", "Telangana", 9, {"telugu": 5, "muslim": 1.8, "north": 0.6}),
    City("Chennai", "Tamil Nadu", 8, {"tamil": 6, "telugu": 0.6, "malayalam": 0.5,
                                      "christian": 0.4}),
    City("Kolkata", "West Bengal", 7, {"bengali": 6, "north": 0.6, "muslim": 0.8}),
    City("Pune", "Maharashtra", 7, {"marathi": 4, "north": 0.8, "gujarati": 0.4, "kannada": 0.3}),
    City("Ahmedabad", "Gujarat", 6, {"gujarati": 6, "north": 0.4, "muslim": 0.4}),
    City("Gurugram", "Haryana", 2.5, {"north": 3, "punjabi": 1.5}),
    City("Noida", "Uttar Pradesh", 2, {"north": 4, "bengali": 0.3}),
    City("Surat", "Gujarat", 2.5, {"gujarati": 6, "marathi": 0.5}),
    City("Jaipur", "Rajasthan", 3.5, {"north": 6, "muslim": 0.6}),
    City("Lucknow", "Uttar Pradesh", 3, {"north": 5, "muslim": 1.8}),
    City("Kochi", "Kerala", 2, {"malayalam": 4, "christian": 2, "muslim": 0.8}),
    City("Thiruvananthapuram", "Kerala", 1, {"malayalam": 5, "christian": 1}),
    City("Chandigarh", "Chandigarh", 2, {"punjabi": 4, "north": 2}),
    City("Indore", "Madhya Pradesh", 2, {"north": 5, "marathi": 0.8}),
    City("Bhopal", "Madhya Pradesh", 1.5, {"north": 5, "muslim": 1}),
    City("Nagpur", "Maharashtra", 1.5, {"marathi": 5, "north": 1}),
    City("Coimbatore", "Tamil Nadu", 1.5, {"tamil": 6, "malayalam": 0.8}),
    City("Visakhapatnam", "Andhra Pradesh", 1.5, {"telugu": 6}),
    City("Mysuru", "Karnataka", 1, {"kannada": 6}),
    City("Vadodara", "Gujarat", 1, {"gujarati": 6, "marathi": 0.5}),
    City("Patna", "Bihar", 1.2, {"north": 6, "muslim": 0.6}),
    City("Bhubaneswar", "Odisha", 1, {"odia": 6, "bengali": 0.5}),
    City("Guwahati", "Assam", 1, {"assamese": 6, "bengali": 1}),
    City("Goa", "Goa", 0.8, {"christian": 3, "marathi": 1.5}),
)

# Share of each city's buyers who come from anywhere in the country.
MIGRANT_SHARE = 0.18

FREE_MAIL_DOMAINS: tuple[tuple[str, float], ...] = (
    ("gmail.com", 58),
    ("yahoo.co.in", 8),
    ("yahoo.com", 4),
    ("outlook.com", 6),
    ("hotmail.com", 4),
    ("rediffmail.com", 4),
    ("icloud.com", 3),
)
# Plausible-looking employer domains (invented, so no real company is named).
COMPANY_DOMAINS: tuple[str, ...] = (
    "kaveritech.in", "nimbuslabs.co.in", "orbitsoft.in", "sahyadriinfra.com", "zenvia.in",
    "tarangsystems.com", "meghdootlogistics.in", "vistaarfinance.com", "indusbyte.io",
    "pragatimotors.co.in",
)
COMPANY_MAIL_SHARE = 0.13

GENDER_WEIGHTS = (("female", 56), ("male", 42), ("undisclosed", 2))
AGE_BANDS = (("18-24", 21), ("25-34", 38), ("35-44", 23), ("45-54", 12), ("55+", 6))


class Product(NamedTuple):
    sku: str
    name: str
    category: str
    price: int  # list price in whole rupees
    occasion_only: str | None = None  # only sold around this occasion


CATALOGUE: tuple[Product, ...] = (
    Product("ETH-KUR-01", "Cotton Kurta", "Ethnic Wear", 1299),
    Product("ETH-SAR-02", "Banarasi Silk Saree", "Ethnic Wear", 5499),
    Product("ETH-LEH-03", "Embroidered Lehenga Set", "Ethnic Wear", 12999),
    Product("ETH-NEH-04", "Nehru Jacket", "Ethnic Wear", 2499),
    Product("ETH-DUP-05", "Chanderi Dupatta", "Ethnic Wear", 699),
    Product("ETH-KSE-06", "Anarkali Kurta Set", "Ethnic Wear", 3299),
    Product("WES-JNS-01", "Slim Fit Denim Jeans", "Western Wear", 1799),
    Product("WES-TEE-02", "Graphic Cotton Tee", "Western Wear", 599),
    Product("WES-SHT-03", "Linen Shirt", "Western Wear", 1499),
    Product("WES-DRS-04", "Floral Summer Dress", "Western Wear", 1999),
    Product("WES-HOD-05", "Fleece Hoodie", "Western Wear", 1599),
    Product("FTW-KOL-01", "Kolhapuri Chappals", "Footwear", 899),
    Product("FTW-RUN-02", "Running Shoes", "Footwear", 3499),
    Product("FTW-JUT-03", "Embroidered Juttis", "Footwear", 1199),
    Product("FTW-SNK-04", "Canvas Sneakers", "Footwear", 2299),
    Product("BTY-OIL-01", "Kumkumadi Face Oil", "Beauty", 1150),
    Product("BTY-SPF-02", "Sunscreen SPF 50", "Beauty", 449),
    Product("BTY-KAJ-03", "Kajal Stick", "Beauty", 249),
    Product("BTY-LIP-04", "Matte Lipstick", "Beauty", 599),
    Product("BTY-HAI-05", "Onion Hair Oil", "Beauty", 349),
    Product("HOM-DIY-01", "Brass Diya Set", "Home & Kitchen", 799),
    Product("HOM-BED-02", "Jaipuri Cotton Bedsheet", "Home & Kitchen", 1499),
    Product("HOM-COP-03", "Copper Water Bottle", "Home & Kitchen", 899),
    Product("HOM-CAN-04", "Scented Candle Trio", "Home & Kitchen", 549),
    Product("HOM-DIN-05", "Stoneware Dinner Set", "Home & Kitchen", 3999),
    Product("ACC-WAL-01", "Leather Wallet", "Accessories", 999),
    Product("ACC-WAT-02", "Analog Watch", "Accessories", 4499),
    Product("ACC-SUN-03", "Polarised Sunglasses", "Accessories", 1299),
    Product("ACC-TOT-04", "Canvas Tote Bag", "Accessories", 1099),
    Product("ACC-EAR-05", "Silver Jhumka Earrings", "Accessories", 1899),
    Product("ELE-EAR-01", "Wireless Earbuds", "Electronics", 2499),
    Product("ELE-SWT-02", "Fitness Smartwatch", "Electronics", 5999),
    Product("ELE-PWR-03", "10000mAh Power Bank", "Electronics", 1299),
    Product("GFT-DRY-01", "Dry Fruit Gift Box", "Gifting", 1499),
    Product("GFT-CHO-02", "Chocolate Hamper", "Gifting", 999),
    Product("GFT-CRD-03", "Gift Card", "Gifting", 2000),
    Product("GFT-RAK-04", "Rakhi Hamper", "Gifting", 799, occasion_only="rakhi"),
    Product("GFT-VAL-05", "Red Roses and Chocolates", "Gifting", 1299, occasion_only="valentines"),
)

# Category tilt while an occasion is on (multiplies the product's base weight).
OCCASION_CATEGORY_TILT: dict[str, dict[str, float]] = {
    "diwali": {"Ethnic Wear": 3, "Home & Kitchen": 3, "Gifting": 3, "Electronics": 1.5},
    "valentines": {"Accessories": 2, "Gifting": 3, "Beauty": 2},
    "holi": {"Ethnic Wear": 1.8, "Western Wear": 1.5, "Beauty": 1.5},
    "rakhi": {"Gifting": 4, "Ethnic Wear": 1.5, "Accessories": 1.5},
    "christmas": {"Gifting": 2.5, "Home & Kitchen": 2, "Western Wear": 1.5},
    "eoss": {"Western Wear": 2.2, "Footwear": 2, "Ethnic Wear": 1.3},
    "independence_sale": {"Electronics": 2.5, "Footwear": 1.5, "Western Wear": 1.5},
}

# Festival dates move with the lunar calendar; unknown years fall back to a typical date.
DIWALI = {2022: date(2022, 10, 24), 2023: date(2023, 11, 12), 2024: date(2024, 11, 1),
          2025: date(2025, 10, 20), 2026: date(2026, 11, 8), 2027: date(2027, 10, 29),
          2028: date(2028, 10, 17), 2029: date(2029, 11, 5), 2030: date(2030, 10, 26)}
HOLI = {2022: date(2022, 3, 18), 2023: date(2023, 3, 8), 2024: date(2024, 3, 25),
        2025: date(2025, 3, 14), 2026: date(2026, 3, 4), 2027: date(2027, 3, 22),
        2028: date(2028, 3, 11), 2029: date(2029, 3, 1), 2030: date(2030, 3, 20)}
RAKSHA_BANDHAN = {2022: date(2022, 8, 11), 2023: date(2023, 8, 30), 2024: date(2024, 8, 19),
                  2025: date(2025, 8, 9), 2026: date(2026, 8, 28), 2027: date(2027, 8, 17),
                  2028: date(2028, 8, 5), 2029: date(2029, 8, 23), 2030: date(2030, 8, 13)}


def festival_date(table: dict[int, date], year: int, month: int, day: int) -> date:
    return table.get(year, date(year, month, day))


# Orders per hour of the customer's local day (IST): quiet nights, a lunch bump,
# and the evening peak after work that send-time optimisation looks for.
HOUR_WEIGHTS_WEEKDAY = (0.9, 0.5, 0.25, 0.15, 0.1, 0.15, 0.35, 0.7, 1.0, 1.3, 1.5, 1.6,
                        1.7, 1.9, 1.6, 1.4, 1.4, 1.6, 2.0, 2.6, 3.1, 3.4, 2.8, 1.8)
HOUR_WEIGHTS_WEEKEND = (1.1, 0.7, 0.35, 0.2, 0.1, 0.1, 0.2, 0.4, 0.7, 1.1, 1.7, 2.1,
                        2.3, 2.3, 2.1, 1.9, 1.9, 2.0, 2.2, 2.5, 2.8, 3.0, 2.6, 1.8)
# Monday .. Sunday
WEEKDAY_FACTOR = (0.85, 0.85, 0.9, 0.95, 1.05, 1.35, 1.45)
# fmt: on
